from django.views.generic import DetailView, ListView

from .models import Expert


class ExpertListView(ListView):
    template_name = "experts/expert_list.html"
    context_object_name = "experts"
    paginate_by = 50

    def get_queryset(self):
        return Expert.objects.published().with_related()


class ExpertDetailView(DetailView):
    template_name = "experts/expert_detail.html"
    context_object_name = "expert"

    def get_queryset(self):
        return Expert.objects.published().with_related()
