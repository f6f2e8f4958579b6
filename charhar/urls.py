import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from articles import views as article_views

from . import citations, feeds, security, sitemaps, views

feed_patterns = [
    path("<str:fmt>/", feeds.feed_view, name="all"),
    path("<str:scope>/<str:slug>/<str:fmt>/", feeds.feed_view, name="scoped"),
]

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("about/<str:slug>/", views.PageView.as_view(), name="page"),
    path("topics/", views.TopicIndexView.as_view(), name="topics"),
    path("regions/", views.RegionIndexView.as_view(), name="regions"),
    path("offices/", views.OfficeListView.as_view(), name="offices"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("feeds/", include((feed_patterns, "feeds"))),
    path("sitemap.xml", sitemaps.index, name="sitemap"),
    path("sitemap-<str:section>.xml", sitemaps.section, name="sitemap_section"),
    path("robots.txt", sitemaps.robots_txt, name="robots_txt"),
    path("cite/<str:kind>/<str:slug>.bib", citations.bibtex, name="cite_bibtex"),
    path("topics/<str:slug>/", article_views.TopicView.as_view(), name="topic"),
    path("regions/<str:slug>/", article_views.RegionView.as_view(), name="region"),
    path("", include("articles.urls")),
    path("experts/", include("experts.urls")),
    path("publications/", include("publications.urls")),
    path("newsletter/", include("newsletter.urls")),
    path("preview/", include("charhar.preview_urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]

if settings.DEBUG and not settings.MEDIA_URL.startswith(("http://", "https://")):
    # In production nginx (or object storage) serves media with the same headers.
    urlpatterns += [
        re_path(
            rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$",
            security.serve_media,
            name="media",
        )
    ]
