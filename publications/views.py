from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView

from charhar.views import ListingView

from .models import Publication, Series


class PublicationListView(ListingView):
    template_name = "publications/publication_list.html"
    context_object_name = "publications"
    heading = _("Publications")
    description = _("Books, journals, reports and newsletters from the institute, newest first.")

    show_series = True

    def get_queryset(self):
        return Publication.objects.published().with_related()

    def get_context_data(self, **kwargs):
        return super().get_context_data(show_series=self.show_series, **kwargs)


class SeriesView(PublicationListView):
    """A series' issues, newest first."""

    show_series = False

    def get_queryset(self):
        self.series = get_object_or_404(Series, slug=self.kwargs["slug"])
        return super().get_queryset().filter(series=self.series)

    def get_heading(self):
        return self.series.name

    def get_description(self):
        return self.series.description or super().get_description()

    def get_context_data(self, **kwargs):
        return super().get_context_data(group=self.series, **kwargs)


class PublicationDetailView(DetailView):
    template_name = "publications/publication_detail.html"
    context_object_name = "publication"

    def get_queryset(self):
        return Publication.objects.published().with_detail()
