import icalendar
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView
from taggit.models import Tag

from charhar.caching import cached_row_or_404
from charhar.models import Region, Topic
from charhar.views import ListingView

from .models import Article, Section


class ArticleListView(ListingView):
    template_name = "articles/article_list.html"
    context_object_name = "articles"
    heading = _("All articles")
    description = _("Commentary, research, news and events from the institute, newest first.")

    def get_queryset(self):
        return Article.objects.published().cards()


class NewsListView(ArticleListView):
    heading = _("News & Events")
    description = _("The institute's news, events, announcements and media, newest first.")

    def get_queryset(self):
        return super().get_queryset().news_and_events()


class ResearchListView(ArticleListView):
    heading = _("Latest Research")
    description = _("The institute's latest research, newest first.")

    def get_queryset(self):
        return super().get_queryset().research()


class KindView(ArticleListView):
    """Every article of one kind: commentary, research, news, events, announcements, media."""

    def get_queryset(self):
        if self.kwargs["kind"] not in Article.Kind.values:
            raise Http404(_("There is no such kind of article."))
        self.kind = Article.Kind(self.kwargs["kind"])
        return super().get_queryset().filter(kind=self.kind)

    def get_heading(self):
        return self.kind.label


class UpcomingEventListView(ArticleListView):
    template_name = "articles/event_list.html"
    heading = _("Upcoming events")
    description = _("The institute's coming events, soonest first.")
    upcoming = True

    def get_queryset(self):
        return super().get_queryset().upcoming_events()

    def get_context_data(self, **kwargs):
        return super().get_context_data(upcoming=self.upcoming, **kwargs)


class PastEventListView(UpcomingEventListView):
    heading = _("Past events")
    description = _("The institute's past events, most recent first.")
    upcoming = False

    def get_queryset(self):
        return Article.objects.published().cards().past_events()


class _GroupArticleList(ArticleListView):
    """Articles of one topic, region, section or tag."""

    group_model = None
    lookup = ""

    def get_queryset(self):
        self.group = cached_row_or_404(self.group_model, self.kwargs["slug"])
        return super().get_queryset().filter(**{self.lookup: self.group})

    def get_heading(self):
        return self.group.name

    def get_description(self):
        return getattr(self.group, "description", "") or super().get_description()

    def get_context_data(self, **kwargs):
        return super().get_context_data(group=self.group, **kwargs)


class TopicView(_GroupArticleList):
    group_model = Topic
    lookup = "topics"


class RegionView(_GroupArticleList):
    group_model = Region
    lookup = "regions"


class SectionView(_GroupArticleList):
    group_model = Section
    lookup = "section"


class TagView(_GroupArticleList):
    group_model = Tag
    lookup = "tags"

    def get_description(self):
        return _("Articles tagged “%(tag)s”, newest first.") % {"tag": self.group.name}


class ArticleDetailView(DetailView):
    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get_queryset(self):
        return Article.objects.published().with_detail()

    def get_context_data(self, **kwargs):
        related = Article.objects.published().select_related("event").related_to(self.object)
        return super().get_context_data(related=related, **kwargs)


def event_calendar(request, slug):
    """The event as an iCalendar (.ics) file for readers' calendars."""
    article = get_object_or_404(
        Article.objects.published().events().select_related("event"), slug=slug
    )
    event = article.event
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//The Charhar Institute//Events//EN")
    calendar.add("version", "2.0")
    entry = icalendar.Event()
    # Stable across edits: calendars update the entry instead of adding a second one.
    entry.add("uid", f"event-{article.pk}@{request.get_host().split(':')[0]}")
    entry.add("dtstamp", timezone.now())
    entry.add("dtstart", event.starts_at.astimezone(event.tz))
    if event.ends_at:
        entry.add("dtend", event.ends_at.astimezone(event.tz))
    entry.add("summary", article.title)
    if article.summary:
        entry.add("description", article.summary)
    location = ", ".join(part for part in (event.venue, event.city) if part)
    if location:
        entry.add("location", location)
    entry.add("url", request.build_absolute_uri(article.get_absolute_url()))
    calendar.add_component(entry)
    calendar.add_missing_timezones()
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{article.slug}.ics"'
    return response
