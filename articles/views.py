from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView

from charhar.models import Region, Topic

from .models import Article, Section


class ArticleListView(ListView):
    template_name = "articles/article_list.html"
    context_object_name = "articles"
    paginate_by = 20

    def get_queryset(self):
        return Article.objects.published().with_related()


class _FilteredArticleList(ArticleListView):
    """Articles of one topic, region or section."""

    model_of_group = None
    lookup = ""

    def get_queryset(self):
        self.group = get_object_or_404(self.model_of_group, slug=self.kwargs["slug"])
        return super().get_queryset().filter(**{self.lookup: self.group})

    def get_context_data(self, **kwargs):
        return super().get_context_data(group=self.group, **kwargs)


class TopicView(_FilteredArticleList):
    model_of_group = Topic
    lookup = "topics"


class RegionView(_FilteredArticleList):
    model_of_group = Region
    lookup = "regions"


class SectionView(_FilteredArticleList):
    model_of_group = Section
    lookup = "section"


class ArticleDetailView(DetailView):
    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get_queryset(self):
        return Article.objects.published().with_related()
