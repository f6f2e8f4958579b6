from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView

from .models import Publication, Series


class PublicationListView(ListView):
    template_name = "publications/publication_list.html"
    context_object_name = "publications"
    paginate_by = 20

    def get_queryset(self):
        return Publication.objects.published().with_related()


class SeriesView(PublicationListView):
    def get_queryset(self):
        self.series = get_object_or_404(Series, slug=self.kwargs["slug"])
        return super().get_queryset().filter(series=self.series)

    def get_context_data(self, **kwargs):
        return super().get_context_data(group=self.series, **kwargs)


class PublicationDetailView(DetailView):
    template_name = "publications/publication_detail.html"
    context_object_name = "publication"

    def get_queryset(self):
        return Publication.objects.published().with_related()
