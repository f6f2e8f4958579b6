from django.urls import path

from . import views

app_name = "experts"

urlpatterns = [
    path("", views.ExpertListView.as_view(), name="list"),
    path("<str:slug>/", views.ExpertDetailView.as_view(), name="detail"),
]
