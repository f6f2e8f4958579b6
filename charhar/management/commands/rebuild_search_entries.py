"""`manage.py rebuild_search_entries`: search's entries made again from the content tables."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from charhar import searchentries
from charhar.pagecache import bump_content_version


class Command(BaseCommand):
    help = (
        "Compare site search's entries (PostgreSQL) with the articles, publications and experts "
        "they stand for, and write the ones that differ again. Triggers keep them current on "
        "every write; this is for after writes made with triggers off (a restore with "
        "pg_restore --disable-triggers, session_replication_role = replica). With --reorder, "
        "every entry is then rewritten in the order searches read them (new content goes at "
        "the table's end; searches wait for the few seconds this takes)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report how many entries differ; write nothing.",
        )
        parser.add_argument(
            "--reorder",
            action="store_true",
            help="Then rewrite every entry in search order and build the index again.",
        )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write(
                "Search entries are kept on PostgreSQL only; on this database search reads "
                "the content tables and there is nothing to rebuild."
            )
            return
        differing = searchentries.drift()
        self.stdout.write(f"{differing} search entries differ from the content.")
        if options["dry_run"]:
            if options["reorder"]:
                self.stdout.write("Every search entry would then be rewritten in search order.")
            self.stdout.write(self.style.WARNING("Dry run: nothing was written."))
            return
        if not differing and not options["reorder"]:
            self.stdout.write(self.style.SUCCESS("Nothing to rebuild."))
            return
        if options["reorder"]:
            # Every entry is written again from the content: the differing ones with them.
            with transaction.atomic():
                reordered = searchentries.reorder()
            done = f"Rewrote {reordered} search entries in search order."
        else:
            written, deleted = searchentries.sync()
            done = f"Wrote {written} search entries and deleted {deleted} left over."
        told = bump_content_version()
        self.stdout.write(self.style.SUCCESS(done))
        if not told:
            self.stdout.write(
                self.style.WARNING(
                    "The cache could not be told: cached searches may be out of date until "
                    "they expire."
                )
            )
