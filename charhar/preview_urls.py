from django.urls import path

from . import preview

app_name = "preview"

urlpatterns = [
    path("articles/<int:pk>/", preview.ArticlePreview.as_view(), name="article"),
    path("publications/<int:pk>/", preview.PublicationPreview.as_view(), name="publication"),
    path("experts/<int:pk>/", preview.ExpertPreview.as_view(), name="expert"),
    path("pages/<int:pk>/", preview.PagePreview.as_view(), name="page"),
]
