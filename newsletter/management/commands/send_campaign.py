"""Send a newsletter campaign, or resume one that was interrupted."""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from newsletter import services
from newsletter.models import Campaign, Delivery, Subscriber


class Command(BaseCommand):
    help = (
        "Send a campaign to every confirmed subscriber whose interests match, in batches over "
        "one mail connection each. Running it again after an interruption sends to exactly "
        "those not yet sent, and retries failed addresses up to --max-attempts times."
    )

    def add_arguments(self, parser):
        parser.add_argument("campaign", type=int, help="The campaign's id (see the admin).")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=settings.NEWSLETTER_BATCH_SIZE,
            help="Messages per mail connection (default %(default)s).",
        )
        parser.add_argument(
            "--max-attempts",
            type=int,
            default=settings.NEWSLETTER_MAX_ATTEMPTS,
            help="Tries per address before it counts as failed for good (default %(default)s).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would be sent, and to how many, without sending or writing.",
        )

    def handle(self, *args, campaign, batch_size, max_attempts, dry_run, verbosity, **options):
        if batch_size < 1 or max_attempts < 1:
            raise CommandError("--batch-size and --max-attempts must be at least 1.")
        campaign_obj = Campaign.objects.filter(pk=campaign).first()
        if campaign_obj is None:
            raise CommandError(f"There is no campaign with id {campaign}.")
        self.verbosity = verbosity
        if dry_run:
            self._dry_run(campaign_obj, max_attempts)
            return
        if campaign_obj.status == Campaign.Status.SENT:
            self._say(f"“{campaign_obj}” was sent already; nothing to do.")
            return
        self._say(f"Sending “{campaign_obj}”…")
        # SIGTERM (e.g. from a process manager) stops the run like Ctrl-C: what was sent is
        # already recorded, and the next run resumes from there.
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            report = services.send_campaign(
                campaign_obj,
                batch_size=batch_size,
                max_attempts=max_attempts,
                progress=self._progress,
            )
        except services.CampaignBusy as exc:
            raise CommandError(f"{exc} Wait for it to finish, then run this again.") from exc
        except services.SendAborted as exc:
            raise CommandError(
                f"The mail server failed ({exc}); {exc.report.sent} sent in this run, all "
                "recorded. Run the command again to resume."
            ) from exc
        except KeyboardInterrupt as exc:
            raise CommandError(
                "Interrupted; what was sent is recorded. Run the command again to resume."
            ) from exc
        finally:
            signal.signal(signal.SIGTERM, previous)
        self._summary(campaign_obj, report, max_attempts)

    def _say(self, text):
        if self.verbosity >= 1:
            self.stdout.write(text)

    def _progress(self, report):
        if self.verbosity < 1:
            return
        self.stdout.write(
            f"  {report.done:,} of {report.total:,} done: {report.sent:,} sent, "
            f"{report.failed:,} failed, {report.skipped:,} skipped ({report.rate:,.0f} messages/s)"
        )

    def _summary(self, campaign, report, max_attempts):
        if self.verbosity < 1:
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.sent:,} sent, {report.failed:,} failed, {report.skipped:,} skipped "
                f"in {report.elapsed:.1f} s ({report.rate:,.0f} messages/s)."
            )
        )
        if report.retryable:
            self.stdout.write(
                self.style.WARNING(
                    f"{report.retryable:,} failed deliveries have tries left "
                    f"(of {max_attempts}); run the command again to retry them."
                )
            )
        elif report.finished:
            given_up = campaign.deliveries.filter(status=Delivery.Status.FAILED).count()
            if given_up:
                self.stdout.write(
                    self.style.WARNING(f"{given_up:,} addresses failed {max_attempts} times.")
                )
            self.stdout.write(self.style.SUCCESS(f"“{campaign}” is sent."))

    def _dry_run(self, campaign, max_attempts):
        sections = services.campaign_sections(campaign)
        for section in sections:
            self.stdout.write(f"  {section.title}: {len(section.items)} items")
        if not sections:
            self.stdout.write(self.style.WARNING("The campaign has no content."))
        if campaign.recipients_at:
            count = campaign.deliveries.filter(services.eligible_deliveries(max_attempts)).count()
            self.stdout.write(f"Would send to {count:,} remaining recipients (dry run).")
        else:
            count = (
                Subscriber.objects.confirmed()
                .filter(services.campaign_interests_q(sections))
                .count()
            )
            self.stdout.write(f"Would send to {count:,} confirmed subscribers (dry run).")


def _interrupt(signum, frame):
    raise KeyboardInterrupt
