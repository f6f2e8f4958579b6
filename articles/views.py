from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, ListView

from charhar.models import Region, Topic

from .models import Article, Section


class ArticleListView(ListView):
    template_name = "articles/article_list.html"
    context_object_name = "articles"
    paginate_by = 20
    heading = _("Articles")

    def get_queryset(self):
        return Article.objects.published().with_related()

    def get_context_data(self, **kwargs):
        return super().get_context_data(heading=self.heading, **kwargs)


class NewsListView(ArticleListView):
    heading = _("News & Events")

    def get_queryset(self):
        return super().get_queryset().news_and_events()


class ResearchListView(ArticleListView):
    heading = _("Latest Research")

    def get_queryset(self):
        return super().get_queryset().research()


class EventListView(ArticleListView):
    heading = _("Events")

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(kind=Article.Kind.EVENT, event__isnull=False)
            .order_by("-event__starts_at")
        )


class _GroupArticleList(ArticleListView):
    """Articles of one topic, region or section."""

    group_model = None
    lookup = ""

    def get_queryset(self):
        self.group = get_object_or_404(self.group_model, slug=self.kwargs["slug"])
        return super().get_queryset().filter(**{self.lookup: self.group})

    def get_context_data(self, **kwargs):
        context = super().get_context_data(group=self.group, **kwargs)
        context["heading"] = self.group.name
        return context


class TopicView(_GroupArticleList):
    group_model = Topic
    lookup = "topics"


class RegionView(_GroupArticleList):
    group_model = Region
    lookup = "regions"


class SectionView(_GroupArticleList):
    group_model = Section
    lookup = "section"


class ArticleDetailView(DetailView):
    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get_queryset(self):
        return Article.objects.published().with_related()
