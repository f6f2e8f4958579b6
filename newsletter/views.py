"""Public newsletter pages: sign-up, confirmation, preferences and unsubscribe.

Links in emails only ever open a page; the change happens on that page's button (a POST), so a
mail scanner that follows links changes nothing. The one exception is RFC 8058's one-click
unsubscribe, which mail clients POST to the unsubscribe URL without a CSRF token: that URL's
signed token is its own proof.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from . import ratelimit, services
from .forms import PreferencesForm, SignupForm
from .models import Subscriber
from .tokens import (
    ExpiredToken,
    InvalidToken,
    confirmation_matches,
    read_confirmation_token,
    read_subscriber_token,
)

THANKS = _(
    "Thank you. Please check your inbox: if this address can be subscribed, an email with a "
    "confirmation link is on its way."
)
TOO_MANY = _("Too many sign-up attempts. Please wait an hour and try again.")


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


class SignupView(TemplateView):
    template_name = "newsletter/signup.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "form": None}


class CheckInboxView(TemplateView):
    template_name = "newsletter/check_inbox.html"


class ConfirmedView(TemplateView):
    template_name = "newsletter/confirmed.html"


@never_cache
@require_POST
def subscribe(request):
    """The sign-up POST: the same answer for every address, whatever its state."""
    if not ratelimit.hit(
        "ip", request.META.get("REMOTE_ADDR", ""), settings.NEWSLETTER_SIGNUP_RATE_PER_IP
    ):
        return _too_many(request)
    form = SignupForm(request.POST)
    if form.is_trap:
        return _thanks(request)
    if not form.is_valid():
        if _wants_json(request):
            errors = {
                name: [error["message"] for error in field_errors]
                for name, field_errors in form.errors.get_json_data().items()
            }
            return JsonResponse({"ok": False, "errors": errors}, status=400)
        return render(request, "newsletter/signup.html", {"form": form}, status=400)
    email = form.cleaned_data["email"]
    if not ratelimit.hit("address", email.lower(), settings.NEWSLETTER_SIGNUP_RATE_PER_ADDRESS):
        return _too_many(request)
    services.sign_up(email, form.cleaned_data["interests"], form.cleaned_data["source"])
    return _thanks(request)


def _thanks(request):
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": str(THANKS)})
    return redirect("newsletter:check_inbox")


def _too_many(request):
    if _wants_json(request):
        response = JsonResponse({"ok": False, "message": str(TOO_MANY)}, status=429)
    else:
        response = render(request, "newsletter/rate_limited.html", status=429)
    response["Retry-After"] = str(settings.NEWSLETTER_SIGNUP_RATE_PER_IP[1])
    return response


def _link_problem(request, problem: str):
    """A clear page for a link that cannot be used (never a 500)."""
    return render(request, "newsletter/link_problem.html", {"problem": problem}, status=400)


# Pages behind a personal link show one subscriber's state: never kept by any cache.
@method_decorator(never_cache, name="dispatch")
class ConfirmView(View):
    """GET shows a Confirm button; only its POST confirms."""

    def _subscriber(self, token):
        try:
            pk, stamp = read_confirmation_token(token)
        except ExpiredToken:
            return None, "expired"
        except InvalidToken:
            return None, "invalid"
        subscriber = Subscriber.objects.filter(pk=pk).first()
        if subscriber is None:
            return None, "invalid"
        if subscriber.status == Subscriber.Status.CONFIRMED:
            return subscriber, "already_confirmed"
        if not confirmation_matches(subscriber, stamp):
            return None, "superseded"
        return subscriber, None

    def get(self, request, token):
        subscriber, problem = self._subscriber(token)
        if problem == "already_confirmed":
            return render(request, "newsletter/confirmed.html", {"already": True})
        if problem:
            return _link_problem(request, problem)
        return render(request, "newsletter/confirm.html", {"email": subscriber.email})

    def post(self, request, token):
        subscriber, problem = self._subscriber(token)
        if problem == "already_confirmed":
            return render(request, "newsletter/confirmed.html", {"already": True})
        if problem:
            return _link_problem(request, problem)
        subscriber.confirm()
        return redirect("newsletter:confirmed")


def _subscriber_from_token(token):
    try:
        pk = read_subscriber_token(token)
    except InvalidToken:
        return None
    return Subscriber.objects.filter(pk=pk).first()


@method_decorator(never_cache, name="dispatch")
class PreferencesView(View):
    template_name = "newsletter/preferences.html"

    def get(self, request, token):
        subscriber = _subscriber_from_token(token)
        if subscriber is None:
            return _link_problem(request, "invalid")
        form = PreferencesForm(initial={"interests": subscriber.interest_values})
        return self._render(request, subscriber, form, token)

    def post(self, request, token):
        subscriber = _subscriber_from_token(token)
        if subscriber is None:
            return _link_problem(request, "invalid")
        if subscriber.status == Subscriber.Status.UNSUBSCRIBED:
            return self._render(request, subscriber, None, token)
        form = PreferencesForm(request.POST)
        if not form.is_valid():
            return self._render(request, subscriber, form, token, status=400)
        subscriber.update_interests(form.cleaned_data["interests"])
        messages.success(request, _("Your preferences are saved."))
        return HttpResponseRedirect(request.path)

    def _render(self, request, subscriber, form, token, status=200):
        context = {
            "subscriber": subscriber,
            "form": form,
            "unsubscribed": subscriber.status == Subscriber.Status.UNSUBSCRIBED,
            "unsubscribe_url": reverse("newsletter:unsubscribe", kwargs={"token": token}),
        }
        return render(request, self.template_name, context, status=status)


@method_decorator(never_cache, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(View):
    """GET shows an Unsubscribe button; a POST (the button, or a mail client's RFC 8058
    one-click request) unsubscribes at once, without a login."""

    def get(self, request, token):
        subscriber = _subscriber_from_token(token)
        if subscriber is None:
            return _link_problem(request, "invalid")
        if subscriber.status == Subscriber.Status.UNSUBSCRIBED:
            return render(request, "newsletter/unsubscribed.html")
        return render(request, "newsletter/unsubscribe.html", {"email": subscriber.email})

    def post(self, request, token):
        subscriber = _subscriber_from_token(token)
        if subscriber is None:
            return _link_problem(request, "invalid")
        if subscriber.status != Subscriber.Status.UNSUBSCRIBED:
            subscriber.unsubscribe()
        return render(request, "newsletter/unsubscribed.html")
