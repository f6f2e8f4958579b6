from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from articles import views as article_views

from . import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("about/<str:slug>/", views.PageView.as_view(), name="page"),
    path("topics/", views.TopicIndexView.as_view(), name="topics"),
    path("regions/", views.RegionIndexView.as_view(), name="regions"),
    path("offices/", views.OfficeListView.as_view(), name="offices"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("topics/<str:slug>/", article_views.TopicView.as_view(), name="topic"),
    path("regions/<str:slug>/", article_views.RegionView.as_view(), name="region"),
    path("", include("articles.urls")),
    path("experts/", include("experts.urls")),
    path("publications/", include("publications.urls")),
    path("newsletter/", include("newsletter.urls")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
