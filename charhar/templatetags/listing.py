"""Filters for listing cards."""

from django import template
from django.core.exceptions import ObjectDoesNotExist

register = template.Library()


@register.filter
def event_details(article):
    """The article's event details, or None for the many articles that are not events.

    `article.event` raises for those (the one-to-one row is missing), and the template
    engine's recovery from that (it lists every attribute of the article to decide whether
    to re-raise) costs more than the rest of the card's date line.
    """
    try:
        return article.event
    except ObjectDoesNotExist:
        return None
