from django.urls import path

from . import views

app_name = "articles"

urlpatterns = [
    path("articles/", views.ArticleListView.as_view(), name="list"),
    path("articles/<str:slug>/", views.ArticleDetailView.as_view(), name="detail"),
    path("news/", views.NewsListView.as_view(), name="news"),
    path("news/<str:slug>/", views.SectionView.as_view(), name="section"),
    path("research/", views.ResearchListView.as_view(), name="research"),
    path("events/", views.EventListView.as_view(), name="events"),
]
