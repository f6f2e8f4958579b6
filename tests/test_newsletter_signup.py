"""The newsletter's public side: the Stay Informed form, double opt-in, privacy of the answer,
abuse protection, preferences and RFC 8058 one-click unsubscribe."""

import datetime
import re
import time

import pytest
import time_machine
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from articles.factories import PublishedArticleFactory
from newsletter.factories import (
    ConfirmedSubscriberFactory,
    PendingSubscriberFactory,
    UnsubscribedSubscriberFactory,
)
from newsletter.models import Interest, Subscriber
from newsletter.testing import run_queued_tasks
from newsletter.tokens import make_subscriber_token

pytestmark = pytest.mark.django_db

SUBSCRIBE = reverse("newsletter:subscribe")
ALL = Interest.values


def _post(client, email, interests=ALL, *, json=False, **data):
    headers = {"accept": "application/json"} if json else {}
    return client.post(SUBSCRIBE, {"email": email, "interests": interests, **data}, headers=headers)


def _links(message):
    return re.findall(r"http://testserver(/newsletter/[^\s\"<>]+)", message.body)


def _confirm_link(message):
    (link,) = [url for url in _links(message) if "/confirm/" in url]
    return link


def test_every_page_has_the_stay_informed_form_with_all_interests_ticked(client):
    article = PublishedArticleFactory()
    html = client.get(article.get_absolute_url()).content.decode()
    assert "Stay Informed" in html
    assert (
        "Don't miss our latest dynamic. Sign up to receive emailed news, events, "
        "opinion, and publication notifications." in html
    )
    form = html[html.index('<form class="signup-form"') :]
    form = form[: form.index("</form>")]
    assert f'action="{SUBSCRIBE}"' in form
    assert "csrfmiddlewaretoken" in form
    assert 'name="website"' in form  # the honeypot
    for value in ALL:
        assert f'name="interests" value="{value}" checked' in form
    assert "<script defer src=" in html
    assert "js/stay-informed.js" in html
    assert " style=" not in form
    assert "<script>" not in html


def test_the_sign_up_page_has_its_own_form_and_no_second_one(client):
    html = client.get(reverse("newsletter:signup")).content.decode()
    assert html.count('<form class="signup-form"') == 1
    assert 'name="source" value="signup_page"' in html


def test_whole_flow_sign_up_confirm_change_preferences_and_one_click_unsubscribe(client):
    response = _post(client, "  Reader@Example.ORG ")
    assert response.status_code == 302
    assert response["Location"] == reverse("newsletter:check_inbox")
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "Reader@example.org"
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.consent_source == Subscriber.Source.STAY_INFORMED
    # The request only queues the email; the worker sends it.
    assert mail.outbox == []
    run_queued_tasks()
    (message,) = mail.outbox
    assert message.to == ["Reader@example.org"]
    link = _confirm_link(message)

    # Opening the link (as a mail scanner would) confirms nothing.
    page = client.get(link)
    assert page.status_code == 200
    assert b"Confirm" in page.content
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING

    response = client.post(link)
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.confirmed_at is not None

    token = make_subscriber_token(subscriber.pk)
    preferences = reverse("newsletter:preferences", kwargs={"token": token})
    assert client.get(preferences).status_code == 200
    response = client.post(preferences, {"interests": ["events", "publications"]}, follow=True)
    assert b"Your preferences are saved." in response.content
    subscriber.refresh_from_db()
    assert subscriber.interest_values == ["events", "publications"]

    # RFC 8058: the mail client POSTs this body, with no cookie, no CSRF token, no login.
    unsubscribe = reverse("newsletter:unsubscribe", kwargs={"token": token})
    one_click = client.__class__(enforce_csrf_checks=True)
    response = one_click.post(
        unsubscribe, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert not Subscriber.objects.confirmed().exists()


def test_confirming_twice_shows_a_clear_page(client):
    _post(client, "twice@example.org")
    run_queued_tasks()
    link = _confirm_link(mail.outbox[0])
    client.post(link)
    for response in (client.get(link), client.post(link)):
        assert response.status_code == 200
        assert b"already confirmed" in response.content


def test_the_answer_is_the_same_whatever_the_address_state(client):
    PendingSubscriberFactory(email="pending@example.org")
    ConfirmedSubscriberFactory(email="confirmed@example.org")
    UnsubscribedSubscriberFactory(email="gone@example.org")
    answers = set()
    for email in ("new@example.org", "pending@example.org", "confirmed@example.org"):
        response = _post(client, email)
        answers.add((response.status_code, response["Location"]))
        response = _post(client, email.upper(), json=True)
        answers.add((response.status_code, response.content))
    response = _post(client, "gone@example.org")
    answers.add((response.status_code, response["Location"]))
    assert len(answers) == 2  # one redirect, one JSON body, whatever the address
    assert Subscriber.objects.count() == 4


def test_signing_up_again_never_duplicates_and_resends_at_most_hourly(client):
    _post(client, "again@example.org")
    _post(client, "AGAIN@example.org", json=True)
    run_queued_tasks()
    assert Subscriber.objects.count() == 1
    assert len(mail.outbox) == 1
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=61)):
        _post(client, "again@example.org")
        run_queued_tasks()
    assert len(mail.outbox) == 2
    # The newer email's link replaces the older one.
    old, new = (_confirm_link(message) for message in mail.outbox)
    assert client.post(old).status_code == 400
    client.post(new)
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED


def test_a_confirmed_subscriber_signing_up_again_is_left_alone(client):
    subscriber = ConfirmedSubscriberFactory(email="kept@example.org", wants_news=False)
    _post(client, "kept@example.org", ["news"])
    run_queued_tasks()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert not subscriber.wants_news
    assert subscriber.wants_events
    assert mail.outbox == []


def test_an_unsubscribed_address_can_sign_up_again_through_confirmation(client):
    subscriber = UnsubscribedSubscriberFactory(email="back@example.org")
    _post(client, "back@example.org")
    run_queued_tasks()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    client.post(_confirm_link(mail.outbox[0]))
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


def test_the_honeypot_answers_like_success_and_records_nothing(client):
    response = _post(client, "robot@example.org", website="http://spam.example")
    assert response.status_code == 302
    assert response["Location"] == reverse("newsletter:check_inbox")
    assert not Subscriber.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_too_many_sign_ups_from_one_address_get_a_readable_429(client, settings):
    settings.NEWSLETTER_SIGNUP_RATE_PER_ADDRESS = (3, 3600)
    for _ in range(3):
        assert _post(client, "busy@example.org").status_code == 302
    response = _post(client, "Busy@EXAMPLE.org")
    assert response.status_code == 429
    assert b"Too many sign-up attempts" in response.content
    assert b"<h1>" in response.content
    assert response["Retry-After"]


def test_too_many_sign_ups_from_one_ip_get_a_429(client, settings):
    settings.NEWSLETTER_SIGNUP_RATE_PER_IP = (5, 3600)
    for n in range(5):
        assert _post(client, f"r{n}@example.org").status_code == 302
    assert _post(client, "r6@example.org").status_code == 429
    response = _post(client, "r7@example.org", json=True)
    assert response.status_code == 429
    assert response.json()["ok"] is False
    # Another client is not held back.
    other = client.__class__(REMOTE_ADDR="192.0.2.7")
    assert _post(other, "r8@example.org").status_code == 302


def test_the_rate_limit_window_ends(client, settings):
    settings.NEWSLETTER_SIGNUP_RATE_PER_IP = (1, 60)
    assert _post(client, "a@example.org").status_code == 302
    assert _post(client, "b@example.org").status_code == 429
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61), tick=False):
        assert _post(client, "c@example.org").status_code == 302


@pytest.mark.parametrize(
    "email",
    [
        "not-an-address",
        "two@example.org, three@example.org",
        "Name <name@example.org>",
        "@example.org",
        "x" * 310 + "@example.org",  # 322 characters: over the cap
        "y" * 100_000,
    ],
)
def test_invalid_and_oversized_addresses_are_refused(client, email):
    response = _post(client, email)
    assert response.status_code == 400
    assert b'class="errorlist"' in response.content
    assert not Subscriber.objects.exists()
    json = _post(client, email, json=True)
    assert json.status_code == 400
    assert json.json()["errors"]["email"]


@pytest.mark.parametrize(
    "email",
    [
        "victim@example.org\r\nBcc: everyone@example.org",
        "victim@example.org\nSubject: hijacked",
        "victim@example.org%0d%0aBcc:everyone@example.org",
        "victim@example.org\x00",
    ],
)
def test_header_injection_attempts_are_refused(client, email):
    response = _post(client, email)
    assert response.status_code == 400
    run_queued_tasks()
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


def test_a_trailing_line_break_is_trimmed_and_cannot_reach_a_header(client):
    _post(client, "clean@example.org\r\n")
    run_queued_tasks()
    (message,) = mail.outbox
    assert message.to == ["clean@example.org"]
    assert b"\r\nBcc" not in message.message().as_bytes()


def test_interests_are_required(client):
    response = _post(client, "none@example.org", interests=[])
    assert response.status_code == 400
    assert b"Choose at least one kind of email." in response.content


def test_an_expired_confirmation_link_shows_a_clear_page(client):
    _post(client, "late@example.org")
    run_queued_tasks()
    link = _confirm_link(mail.outbox[0])
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        for response in (client.get(link), client.post(link)):
            assert response.status_code == 400
            assert b"expired" in response.content
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "garbage",
        lambda token: signing.dumps([1, 2], salt="another.salt"),
        lambda token: signing.dumps("not a list", salt="newsletter.confirm"),
    ],
)
def test_a_tampered_confirmation_link_shows_a_clear_page(client, mangle):
    _post(client, "tamper@example.org")
    run_queued_tasks()
    link = _confirm_link(mail.outbox[0])
    token = link.split("/confirm/")[1].rstrip("/")
    bad = reverse("newsletter:confirm", kwargs={"token": mangle(token)})
    for response in (client.get(bad), client.post(bad)):
        assert response.status_code == 400
        assert b"not valid" in response.content
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_tampered_preference_and_unsubscribe_links_change_nothing(client):
    subscriber = ConfirmedSubscriberFactory()
    token = make_subscriber_token(subscriber.pk)
    forged = token.replace(f"{subscriber.pk}:", f"{subscriber.pk + 1}:")
    for name in ("preferences", "unsubscribe"):
        url = reverse(f"newsletter:{name}", kwargs={"token": forged})
        assert client.get(url).status_code == 400
        assert client.post(url, {"interests": ["news"]}).status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.wants_events


def test_the_unsubscribe_link_opened_in_a_browser_asks_before_unsubscribing(client):
    subscriber = ConfirmedSubscriberFactory()
    url = reverse("newsletter:unsubscribe", kwargs={"token": make_subscriber_token(subscriber.pk)})
    response = client.get(url)
    assert response.status_code == 200
    assert b'<button type="submit">Unsubscribe</button>' in response.content
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


def test_the_json_answer_lets_the_form_stay_in_place(client):
    response = _post(client, "js@example.org", json=True)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "message": response.json()["message"]}
    assert "check your inbox" in response.json()["message"]


def test_signing_up_costs_a_few_queries_and_is_quick(client, django_assert_max_num_queries):
    ConfirmedSubscriberFactory.create_batch(50)
    with django_assert_max_num_queries(6):
        _post(client, "fast@example.org")
    started = time.perf_counter()
    for n in range(10):
        _post(client, f"quick{n}@example.org")
    # A loose bound for a shared CI machine; docs/performance.md has the measured figure.
    assert (time.perf_counter() - started) / 10 < 0.25


def test_get_is_not_allowed_on_the_sign_up_endpoint(client):
    assert client.get(SUBSCRIBE).status_code == 405
