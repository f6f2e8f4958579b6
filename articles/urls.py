from django.urls import path

from . import views

app_name = "articles"

urlpatterns = [
    path("articles/", views.ArticleListView.as_view(), name="list"),
    path("articles/kind/<str:kind>/", views.KindView.as_view(), name="kind"),
    path("articles/<str:slug>/", views.ArticleDetailView.as_view(), name="detail"),
    path("articles/<str:slug>/event.ics", views.event_calendar, name="event_ics"),
    path("news/", views.NewsListView.as_view(), name="news"),
    path("news/<str:slug>/", views.SectionView.as_view(), name="section"),
    path("research/", views.ResearchListView.as_view(), name="research"),
    path("events/", views.UpcomingEventListView.as_view(), name="events"),
    path("events/past/", views.PastEventListView.as_view(), name="past_events"),
    path("tags/<str:slug>/", views.TagView.as_view(), name="tag"),
]
