"""Campaigns: content picked since the last campaign, matched to interests; sending in batches
over real SMTP connections, resumable after a crash, failures recorded and retried."""

import datetime
import email
import email.policy
import itertools
import smtplib
import socket
import threading
from io import StringIO

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from articles.factories import EventDetailsFactory, PublishedArticleFactory
from articles.models import Article
from newsletter import services
from newsletter.factories import (
    CampaignFactory,
    ConfirmedSubscriberFactory,
    PendingSubscriberFactory,
    SentCampaignFactory,
    UnsubscribedSubscriberFactory,
)
from newsletter.models import Campaign, Delivery, Subscriber
from newsletter.testing import run_queued_tasks
from publications.factories import PublishedPublicationFactory

pytestmark = pytest.mark.django_db


# --- A real SMTP server on 127.0.0.1 -----------------------------------------------------


class Recorder:
    """aiosmtpd handler: keeps what it accepts; refuses some recipients; can hang up."""

    def __init__(self):
        self.messages = []  # (recipient, parsed message)
        self.sessions = set()
        self.refuse = set()
        self.hang_up_after = None  # accept this many messages in all, then drop connections
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.hang_up_after is not None and len(self.messages) >= self.hang_up_after:
                server.transport.close()
                return "421 4.3.0 Going away"
            self.sessions.add(id(session))
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            for recipient in envelope.rcpt_tos:
                self.messages.append((recipient, parsed))
        return "250 Message accepted"

    @property
    def recipients(self):
        return [recipient for recipient, _message in self.messages]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    recorder = Recorder()
    port = _free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield recorder
    controller.stop()


# --- Helpers -------------------------------------------------------------------------------


def _campaign_with_everything():
    return CampaignFactory(
        articles=[
            PublishedArticleFactory(kind=Article.Kind.NEWS, title="A news item"),
            EventDetailsFactory(article__title="A conference").article,
            PublishedArticleFactory(kind=Article.Kind.COMMENTARY, title="An opinion"),
        ],
        publications=[PublishedPublicationFactory(title="A book")],
    )


def _send(campaign, **options):
    out = StringIO()
    call_command("send_campaign", campaign.pk, stdout=out, **options)
    return out.getvalue()


class CrashAfter(LocmemBackend):
    """A backend whose process 'dies' after accepting a set number of messages."""

    remaining = 0

    def send_messages(self, messages):
        if CrashAfter.remaining <= 0:
            raise KeyboardInterrupt  # as if the process were stopped mid-batch
        CrashAfter.remaining -= 1
        return super().send_messages(messages)


# --- Content --------------------------------------------------------------------------------


def test_content_is_what_was_published_since_the_last_campaign():
    now = timezone.now()
    before = PublishedArticleFactory(published_at=now - datetime.timedelta(days=10))
    SentCampaignFactory(content_until=now - datetime.timedelta(days=5), articles=[before])
    announced = PublishedArticleFactory(published_at=now - datetime.timedelta(days=1))
    SentCampaignFactory(content_until=now - datetime.timedelta(days=6), articles=[announced])
    fresh = PublishedArticleFactory(published_at=now - datetime.timedelta(days=2))
    PublishedArticleFactory(status=Article.Status.DRAFT, published_at=None)
    PublishedArticleFactory(published_at=now + datetime.timedelta(days=1))  # scheduled
    publication = PublishedPublicationFactory()
    campaign = CampaignFactory()
    services.pick_content(campaign, now=now)
    assert list(campaign.articles.all()) == [fresh]
    assert list(campaign.publications.all()) == [publication]
    assert campaign.content_until == now


def test_content_is_grouped_by_kind_and_matched_to_each_subscribers_interests():
    campaign = _campaign_with_everything()
    events_only = ConfirmedSubscriberFactory(
        wants_news=False, wants_opinion=False, wants_publications=False
    )
    news_and_books = ConfirmedSubscriberFactory(wants_events=False, wants_opinion=False)
    _send(campaign)
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {events_only.email, news_and_books.email}
    events_body = by_recipient[events_only.email].body
    assert "== Events ==" in events_body
    assert "A conference" in events_body
    assert "A news item" not in events_body
    assert "A book" not in events_body
    other = by_recipient[news_and_books.email].body
    assert "== News ==" in other
    assert "== Publications ==" in other
    assert "A book" in other
    assert "A conference" not in other
    assert "An opinion" not in other
    html = by_recipient[news_and_books.email].alternatives[0][0]
    assert ">A news item</a>" in html
    assert "A conference" not in html


def test_subscribers_whose_interests_have_no_content_get_nothing():
    campaign = CampaignFactory(articles=[PublishedArticleFactory(kind=Article.Kind.NEWS)])
    ConfirmedSubscriberFactory(wants_news=False)
    wants_news = ConfirmedSubscriberFactory()
    _send(campaign)
    assert [message.to for message in mail.outbox] == [[wants_news.email]]
    assert Delivery.objects.count() == 1


def test_only_confirmed_subscribers_ever_receive_a_campaign():
    campaign = _campaign_with_everything()
    confirmed = ConfirmedSubscriberFactory()
    PendingSubscriberFactory()
    UnsubscribedSubscriberFactory()
    _send(campaign)
    assert [message.to for message in mail.outbox] == [[confirmed.email]]


def test_each_message_carries_personal_preferences_and_one_click_unsubscribe(client):
    campaign = _campaign_with_everything()
    subscriber = ConfirmedSubscriberFactory()
    _send(campaign)
    (message,) = mail.outbox
    headers = message.message()
    unsubscribe = headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("http://testserver/newsletter/unsubscribe/")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/newsletter/preferences/" in message.body
    assert unsubscribe in message.body
    path = unsubscribe.removeprefix("http://testserver")
    response = client.__class__(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    # No further mail.
    mail.outbox.clear()
    _send(CampaignFactory(articles=[PublishedArticleFactory()]))
    assert mail.outbox == []


# --- Sending and resuming -------------------------------------------------------------------


def test_sending_goes_in_batches_over_one_smtp_connection_each(smtp_server):
    campaign = _campaign_with_everything()
    subscribers = ConfirmedSubscriberFactory.create_batch(7)
    output = _send(campaign, batch_size=3)
    assert sorted(smtp_server.recipients) == sorted(s.email for s in subscribers)
    assert len(smtp_server.sessions) == 3  # 3 + 3 + 1
    assert "7 sent, 0 failed" in output
    assert "is sent" in output
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 7
    _recipient, message = smtp_server.messages[0]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_body(("plain",)) is not None
    assert message.get_body(("html",)) is not None


def test_a_send_that_crashes_midway_resumes_with_exactly_those_not_yet_sent(settings):
    campaign = _campaign_with_everything()
    subscribers = ConfirmedSubscriberFactory.create_batch(10)
    settings.EMAIL_BACKEND = f"{__name__}.CrashAfter"
    CrashAfter.remaining = 4
    with pytest.raises(CommandError, match="Interrupted"):
        _send(campaign, batch_size=3)
    first_run = [message.to[0] for message in mail.outbox]
    assert len(first_run) == 4
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 4
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
    assert campaign.lock_owner == ""

    CrashAfter.remaining = 1000
    _send(campaign, batch_size=3)
    everyone = [message.to[0] for message in mail.outbox]
    assert sorted(everyone) == sorted(s.email for s in subscribers)
    assert len(set(everyone)) == len(everyone) == 10  # nobody twice, nobody skipped
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT

    # A third run sends nothing.
    assert "nothing to do" in _send(campaign)
    assert len(mail.outbox) == 10


def test_a_smtp_server_hanging_up_midway_is_resumed_on_the_next_run(smtp_server):
    campaign = _campaign_with_everything()
    subscribers = ConfirmedSubscriberFactory.create_batch(8)
    smtp_server.hang_up_after = 5
    with pytest.raises(CommandError, match="Run the command again to resume"):
        _send(campaign, batch_size=3)
    assert len(smtp_server.recipients) == 5
    in_flight = Delivery.objects.get(status=Delivery.Status.FAILED)
    assert in_flight.error.startswith("SMTP")
    smtp_server.hang_up_after = None
    _send(campaign, batch_size=3)
    assert sorted(smtp_server.recipients) == sorted(s.email for s in subscribers)
    assert len(set(smtp_server.recipients)) == 8
    # The message in flight when the server hung up counts as one failed attempt.
    assert Delivery.objects.filter(attempts=2).count() == 1


def test_a_refused_address_is_recorded_and_retried_a_bounded_number_of_times(smtp_server):
    campaign = _campaign_with_everything()
    good = ConfirmedSubscriberFactory.create_batch(3)
    bad = ConfirmedSubscriberFactory(email="bounce@example.org")
    smtp_server.refuse = {bad.email}
    output = _send(campaign, max_attempts=3)
    assert "3 sent, 1 failed" in output
    assert "run the command again to retry" in output
    delivery = Delivery.objects.get(subscriber=bad)
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == 1
    assert "550" in delivery.error
    assert "Mailbox unavailable" in delivery.error
    for _ in range(5):
        _send(campaign, max_attempts=3)
    delivery.refresh_from_db()
    assert delivery.attempts == 3  # bounded: no fourth try
    assert sorted(smtp_server.recipients) == sorted(s.email for s in good)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_an_address_that_recovers_is_sent_on_retry(smtp_server):
    campaign = _campaign_with_everything()
    flaky = ConfirmedSubscriberFactory()
    smtp_server.refuse = {flaky.email}
    _send(campaign)
    smtp_server.refuse = set()
    _send(campaign)
    assert smtp_server.recipients == [flaky.email]
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_the_recipient_list_is_fixed_when_sending_starts(settings):
    campaign = _campaign_with_everything()
    first = ConfirmedSubscriberFactory.create_batch(3)
    settings.EMAIL_BACKEND = f"{__name__}.CrashAfter"
    CrashAfter.remaining = 1
    with pytest.raises(CommandError):
        _send(campaign, batch_size=2)
    late = ConfirmedSubscriberFactory()
    gone = first[2]
    gone.unsubscribe()
    CrashAfter.remaining = 1000
    _send(campaign)
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == sorted([first[0].email, first[1].email])
    assert late.email not in recipients
    assert Delivery.objects.get(subscriber=gone).status == Delivery.Status.SKIPPED


def test_a_campaign_being_sent_by_a_live_process_is_not_sent_twice():
    campaign = _campaign_with_everything()
    ConfirmedSubscriberFactory()
    Campaign.objects.filter(pk=campaign.pk).update(
        lock_owner="another-host:1234", lock_heartbeat=timezone.now()
    )
    with pytest.raises(CommandError, match="Another process"):
        _send(campaign)
    assert mail.outbox == []
    # A holder silent for long is presumed dead.
    Campaign.objects.filter(pk=campaign.pk).update(
        lock_heartbeat=timezone.now() - datetime.timedelta(hours=1)
    )
    _send(campaign)
    assert len(mail.outbox) == 1


def test_a_lock_left_by_a_killed_process_on_this_machine_is_taken_over():
    campaign = _campaign_with_everything()
    ConfirmedSubscriberFactory()
    dead_pid = 2**22 + 12345  # above any pid this machine hands out
    Campaign.objects.filter(pk=campaign.pk).update(
        lock_owner=f"{socket.gethostname()}:{dead_pid}", lock_heartbeat=timezone.now()
    )
    _send(campaign)
    assert len(mail.outbox) == 1


def test_dry_run_shows_what_would_be_sent_and_writes_nothing():
    campaign = _campaign_with_everything()
    ConfirmedSubscriberFactory.create_batch(2)
    output = _send(campaign, dry_run=True)
    assert "Would send to 2 confirmed subscribers" in output
    assert "Events: 1 items" in output
    assert mail.outbox == []
    assert not Delivery.objects.exists()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_progress_is_shown_per_batch_and_quiet_at_verbosity_zero():
    campaign = _campaign_with_everything()
    ConfirmedSubscriberFactory.create_batch(5)
    output = _send(campaign, batch_size=2)
    assert "2 of 5 done" in output
    assert "4 of 5 done" in output
    assert "5 of 5 done" in output
    campaign2 = _campaign_with_everything()
    assert _send(campaign2, verbosity=0) == ""


def test_unknown_campaign_is_a_clear_error():
    with pytest.raises(CommandError, match="no campaign with id 999"):
        _send(Campaign(pk=999))


def test_a_subject_with_a_line_break_is_refused():
    campaign = CampaignFactory.build(subject="Hello\r\nBcc: everyone@example.org")
    with pytest.raises(Exception, match="single line"):
        campaign.full_clean()
    campaign.save()
    ConfirmedSubscriberFactory()
    campaign.articles.set([PublishedArticleFactory()])
    _send(campaign)
    # Django refuses the header: recorded as a failure, nothing sent.
    assert mail.outbox == []
    assert "BadHeaderError" in Delivery.objects.get().error


def test_sending_streams_the_subscribers_in_fixed_size_batches(
    django_assert_max_num_queries,
):
    campaign = _campaign_with_everything()
    ConfirmedSubscriberFactory.create_batch(40)
    # Per batch: one select, one update per message, one heartbeat; a constant set-up cost.
    with django_assert_max_num_queries(20 + 40 + 2 * (40 // 10 + 1)):
        _send(campaign, batch_size=10)
    assert len(mail.outbox) == 40


# --- The background task --------------------------------------------------------------------


def test_the_admin_action_queues_the_send_and_the_worker_sends_it(admin_client, smtp_server):
    campaign = _campaign_with_everything()
    subscribers = ConfirmedSubscriberFactory.create_batch(3)
    response = admin_client.post(
        reverse("admin:newsletter_campaign_changelist"),
        {"action": "queue_for_sending", "_selected_action": [campaign.pk]},
    )
    assert response.status_code == 302
    # Nothing is sent inside the request.
    assert smtp_server.messages == []
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.QUEUED
    (result,) = run_queued_tasks()
    assert result.status == "SUCCESSFUL"
    assert sorted(smtp_server.recipients) == sorted(s.email for s in subscribers)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_the_task_comes_back_later_for_failed_addresses(smtp_server, settings):
    from django_tasks_db.models import DBTaskResult

    campaign = _campaign_with_everything()
    bad = ConfirmedSubscriberFactory()
    smtp_server.refuse = {bad.email}
    from newsletter.tasks import send_campaign

    send_campaign.enqueue(campaign.pk)
    run_queued_tasks()
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert retry.run_after > timezone.now()


def test_send_test_to_me_emails_the_staff_member(admin_client, admin_user):
    campaign = _campaign_with_everything()
    admin_client.post(
        reverse("admin:newsletter_campaign_changelist"),
        {"action": "send_test_to_me", "_selected_action": [campaign.pk]},
    )
    assert mail.outbox == []
    run_queued_tasks()
    (message,) = mail.outbox
    assert message.to == [admin_user.email]
    assert message.subject == f"[Test] {campaign.subject}"
    assert "A conference" in message.body
    assert "A book" in message.body


def test_smtp_errors_are_classified_per_address_or_per_connection():
    assert issubclass(smtplib.SMTPRecipientsRefused, services.PER_MESSAGE_ERRORS)
    assert not issubclass(smtplib.SMTPServerDisconnected, services.PER_MESSAGE_ERRORS)


def test_each_interest_combination_is_rendered_once():
    campaign = _campaign_with_everything()
    messages = services.CampaignMessages(campaign)
    calls = itertools.count()
    original = messages._render
    messages._render = lambda mask: (next(calls), original(mask))[1]
    for pk in range(1, 50):
        messages.build(email=f"r{pk}@example.org", subscriber_pk=pk, mask=1 + pk % 15)
    assert next(calls) == 15


def test_prepared_messages_are_byte_for_byte_what_django_generates():
    campaign = _campaign_with_everything()
    messages = services.CampaignMessages(campaign)
    date = "Mon, 01 Jan 2024 00:00:00 -0000"
    for address, pk in (("first@example.org", 5), ("o'brien.x@example.org", 123456)):
        prepared = messages.prepared(email=address, subscriber_pk=pk, mask=11, date=date)
        assert isinstance(prepared, services.PreparedMessage)
        standard = messages.build(
            email=address,
            subscriber_pk=pk,
            mask=11,
            headers={"Message-ID": prepared.extra_headers["Message-ID"], "Date": date},
        ).message()
        standard.set_boundary(messages.boundary)
        assert prepared.message().as_bytes() == standard.as_bytes()
        assert prepared.message().as_bytes(linesep="\r\n") == standard.as_bytes(linesep="\r\n")


def test_unusual_addresses_take_the_standard_path():
    campaign = _campaign_with_everything()
    subscriber = ConfirmedSubscriberFactory(email="Zoë@exämple.org")
    message = services.CampaignMessages(campaign).prepared(
        email=subscriber.email, subscriber_pk=subscriber.pk, mask=15
    )
    assert not isinstance(message, services.PreparedMessage)
    _send(campaign)
    assert mail.outbox[0].to == ["Zoë@exämple.org"]
    assert b"xn--exmple-cua.org" in mail.outbox[0].message().as_bytes()


def test_the_admin_action_resumes_a_campaign_whose_worker_stopped(admin_client, settings):
    campaign = _campaign_with_everything()
    subscribers = ConfirmedSubscriberFactory.create_batch(4)
    settings.EMAIL_BACKEND = f"{__name__}.CrashAfter"
    CrashAfter.remaining = 2
    with pytest.raises(CommandError):
        _send(campaign, batch_size=2)
    CrashAfter.remaining = 1000
    admin_client.post(
        reverse("admin:newsletter_campaign_changelist"),
        {"action": "queue_for_sending", "_selected_action": [campaign.pk]},
    )
    run_queued_tasks()
    assert sorted(message.to[0] for message in mail.outbox) == sorted(s.email for s in subscribers)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
