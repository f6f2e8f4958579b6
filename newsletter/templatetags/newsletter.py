"""{% signup_form %}: the sign-up form, on every page (Stay Informed) and on its own page."""

from django import template

from ..models import Interest

register = template.Library()


@register.inclusion_tag("newsletter/includes/signup_form.html", takes_context=True)
def signup_form(context, source, prefix, form=None):
    """Render the form; `form`, when given, is a bound SignupForm whose values and errors
    are shown again. Costs no query."""
    if form is not None and form.is_bound:
        checked = form.data.getlist("interests") if hasattr(form.data, "getlist") else []
        email = form.data.get("email", "")
        email_errors = form.errors.get("email", [])
        interest_errors = form.errors.get("interests", [])
    else:
        checked, email, email_errors, interest_errors = Interest.values, "", [], []
    return {
        "csrf_token": context.get("csrf_token"),
        "source": source,
        "prefix": prefix,
        "interest_choices": Interest.choices,
        "checked": checked,
        "email": email,
        "email_errors": email_errors,
        "interest_errors": interest_errors,
    }
