from django.views.generic import DetailView, TemplateView

from articles.models import Article

from .models import Page


class HomeView(TemplateView):
    template_name = "charhar/home.html"

    def get_context_data(self, **kwargs):
        articles = Article.objects.published().with_related()
        return super().get_context_data(
            featured=articles.filter(is_featured=True)[:1],
            latest=articles[:10],
            **kwargs,
        )


class PageView(DetailView):
    template_name = "charhar/page.html"
    context_object_name = "page"

    def get_queryset(self):
        return Page.objects.filter(is_published=True)
