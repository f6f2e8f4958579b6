from django.urls import path

from . import views

app_name = "publications"

urlpatterns = [
    path("", views.PublicationListView.as_view(), name="list"),
    path("series/<str:slug>/", views.SeriesView.as_view(), name="series"),
    path("<str:slug>/", views.PublicationDetailView.as_view(), name="detail"),
]
