"""Background tasks (django-tasks, database backend): mail leaves from the worker, never from a
web request. Run the worker with `manage.py db_worker` (see docs/newsletter.md)."""

import datetime
import logging
import smtplib

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from . import services
from .models import Campaign, Subscriber

logger = logging.getLogger(__name__)


# What a mail server that is down, unreachable or refusing for now raises.
MAIL_SERVER_ERRORS = (smtplib.SMTPException, OSError)


@task()
def send_confirmation(subscriber_pk: int, requested_at: str = "", attempt: int = 1):
    """Email a confirmation link; while the mail server fails, try again later.

    `requested_at` is the subscriber's confirmation request this email answers: a newer
    request queues an email of its own (with a link that replaces this one's), so this one is
    dropped and the reader gets one email, not two. Tries follow
    NEWSLETTER_CONFIRMATION_RETRY_DELAYS, then the task fails with the mail server's error.
    """
    subscriber = Subscriber.objects.filter(pk=subscriber_pk).first()
    if subscriber is None:
        return False
    if requested_at and subscriber.confirmation_sent_at != datetime.datetime.fromisoformat(
        requested_at
    ):
        return False
    try:
        return services.send_confirmation_email(subscriber)
    except MAIL_SERVER_ERRORS as error:
        delays = settings.NEWSLETTER_CONFIRMATION_RETRY_DELAYS
        if attempt > len(delays):
            logger.error(
                "Confirmation email to subscriber %s not sent after %d tries: %s",
                subscriber_pk,
                attempt,
                error,
            )
            raise
        run_after = timezone.now() + datetime.timedelta(seconds=delays[attempt - 1])
        send_confirmation.using(run_after=run_after).enqueue(
            subscriber_pk, subscriber.confirmation_sent_at.isoformat(), attempt + 1
        )
        logger.warning(
            "Confirmation email to subscriber %s failed (%s: %s); trying again at %s.",
            subscriber_pk,
            type(error).__name__,
            error,
            run_after.isoformat(timespec="seconds"),
        )
        return {"retry_at": run_after.isoformat()}


@task()
def send_test(campaign_pk: int, email: str) -> None:
    campaign = Campaign.objects.get(pk=campaign_pk)
    services.send_test_email(campaign, email)


@task()
def send_campaign(campaign_pk: int) -> dict:
    """Send or resume a campaign; while failed deliveries may be retried, come back later."""
    campaign = Campaign.objects.get(pk=campaign_pk)

    def log_progress(report):
        logger.info(
            "Campaign %s: %d of %d sent, %d failed, %d skipped",
            campaign_pk,
            report.sent,
            report.total,
            report.failed,
            report.skipped,
        )

    try:
        report = services.send_campaign(campaign, progress=log_progress)
    except services.CampaignBusy:
        logger.info("Campaign %s is being sent by another process.", campaign_pk)
        return {"busy": True}
    except services.SendAborted as exc:
        logger.warning("Campaign %s stopped: %s; retrying later.", campaign_pk, exc)
        Campaign.objects.filter(pk=campaign_pk).update(last_error=str(exc)[:2000])
        _retry_later(campaign_pk)
        return {"aborted": str(exc), "sent": exc.report.sent}
    if report.retryable:
        _retry_later(campaign_pk)
    return {"sent": report.sent, "failed": report.failed, "finished": report.finished}


def _retry_later(campaign_pk: int) -> None:
    run_after = timezone.now() + datetime.timedelta(seconds=settings.NEWSLETTER_RETRY_DELAY)
    send_campaign.using(run_after=run_after).enqueue(campaign_pk)
