"""The admin front page's editorial dashboard."""

from django import template

from charhar.editorial import dashboard

register = template.Library()


@register.inclusion_tag("admin/editorial_dashboard.html", takes_context=True)
def editorial_dashboard(context):
    request = context["request"]
    if not request.user.has_perm("articles.view_article"):
        return {"show": False}
    return {"show": True, **dashboard(request.user)}
