"""`manage.py copy_media DIR`: a folder of media files into the site's storage."""

from django.core.management.base import BaseCommand, CommandError

from charhar.storage import copy_media


class Command(BaseCommand):
    help = (
        "Copy every file under DIR into the site's media storage (local disk or the bucket) "
        "at the same relative name, with the headers the site serves it with: a media "
        "backup going back after a restore, or MEDIA_ROOT moving to object storage. Files "
        "already stored with the same bytes are left alone; a stored file with other bytes "
        "is never overwritten but reported, and the command then exits with an error."
    )

    def add_arguments(self, parser):
        parser.add_argument("source_dir", help="The folder to copy from (e.g. BACKUP/media).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would be copied; write nothing.",
        )

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        try:
            result = copy_media(options["source_dir"], dry_run=dry_run)
        except OSError as exc:
            raise CommandError(f"Could not copy media from {options['source_dir']}: {exc}") from exc
        verbosity = options["verbosity"]
        if verbosity >= 2:
            for name in result.copied:
                self.stdout.write(f"{'Would copy' if dry_run else 'Copied'} {name}")
        if verbosity >= 1:
            if dry_run:
                self.stdout.write(self.style.WARNING("Dry run: nothing was written."))
            verb = "Would copy" if dry_run else "Copied"
            self.stdout.write(
                self.style.SUCCESS(
                    f"{verb} {len(result.copied)} files; {len(result.unchanged)} were already "
                    "there."
                )
            )
        if result.conflicts:
            for name in result.conflicts:
                self.stderr.write(f"{name}: stored with other content; left as it is.")
            raise CommandError(
                f"{len(result.conflicts)} files are already stored with other content and were "
                "not copied (listed above)."
            )
