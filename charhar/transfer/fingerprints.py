"""Fingerprints of imported records, so that re-running an import costs little.

Staff re-run imports while the old site is still live, and most records are then the same
as last time. For each record it wrote (or found unchanged), the writer keeps a fingerprint
(`charhar.models.ImportFingerprint`): a digest of the record as read together with the
import's options, the row it became and that row's `updated_at`. A later run passes over a
record, reporting it unchanged without converting, resolving or comparing it, when

- its digest is the same (the source and the options are), and
- its row still exists with the same `updated_at`: nobody has saved it since (every save in
  the admin, a restored revision, the editorial workflow, moves `updated_at`).

What a row's `updated_at` cannot show is forgotten outright (`forget_all`): any save or
delete of a topic, region, section, series, expert or tag, because records name them
and a rename or a deletion changes what a name resolves to; and any save or delete of a
redirect, because records' old addresses are redirects. Imports themselves forget them all
when one of their records creates or changes such a row. The files a record names (images,
PDFs in the media folder) count by size and modification time, as `rsync` compares them;
a WordPress import with an uploads folder reads every post in full, since which uploads a
post uses is known only once it is converted.

`FINGERPRINT_VERSION` is part of every digest: change it when an importer converts the same
source differently, so that the next run reads every record again.
"""

import hashlib
import json

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models.signals import post_delete, post_save

from ..models import ImportFingerprint

FINGERPRINT_VERSION = "1"

# The rows records name, by record type: a change to one forgets every fingerprint. Pages are
# named by menus only, which are always read in full.
NAMED = {
    "topic": "charhar.Topic", "region": "charhar.Region", "section": "articles.Section",
    "series": "publications.Series", "expert": "experts.Expert", "tag": "taggit.Tag",
}  # fmt: skip


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def digest_of(data, salt: str = "") -> str:
    """The digest of a record (or of a source item) as read, with `salt`."""
    return _hash(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str) + salt)


def digest_of_bytes(data: bytes) -> str:
    """The digest of a record's source text (a line of JSON Lines), for `_digest`."""
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def source_of(label: str, key: str) -> str:
    return _hash(f"{label}\x1f{key}")


def forget_all(**kwargs) -> None:
    """Drop every fingerprint: the next run of any import reads every record in full."""
    table = connection.ops.quote_name(ImportFingerprint._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (the model's own table name)


def connect_signals() -> None:
    """Forget the fingerprints when a row that records refer to is saved or deleted."""
    from django.apps import apps

    for label in (*NAMED.values(), "charhar.Redirect"):
        model = apps.get_model(label)
        for signal in (post_save, post_delete):
            signal.connect(forget_all, sender=model, dispatch_uid=f"fingerprints-{label}")


class Fingerprints:
    """The fingerprints of one import run (`salt`: its options)."""

    def __init__(self, salt: str):
        self.salt = f"{FINGERPRINT_VERSION}|{salt}"
        self._any = None

    def any_before_this_run(self) -> bool:
        """Whether there were fingerprints when the run began: a first import into an empty
        database has nothing to look up (a record given twice in one run is read in full
        either way)."""
        if self._any is None:
            self._any = ImportFingerprint.objects.exists()
        return self._any

    def digest(self, record: dict, files: str = "") -> str:
        """The record's digest with this run's options and its `files`' stamps: of the
        source's own digest of it (`_digest`, set by a reader that has the record's text),
        else of its fields."""
        given = record.get("_digest")
        if given is not None:
            return _hash(f"{given}|{files}|{self.salt}")
        fields = {k: v for k, v in record.items() if k[:1] != "_"}
        return digest_of(fields, f"{files}|{self.salt}")

    def unchanged(self, model, entries: dict[str, str]) -> dict[str, list[str]]:
        """Of `entries` (source → digest), those to pass over: source → the old addresses
        their redirects were written for."""
        if not entries:
            return {}
        content_type = ContentType.objects.get_for_model(model)
        stored = {
            source: (object_id, updated_at, redirects)
            for source, digest, object_id, updated_at, redirects in (
                ImportFingerprint.objects.filter(
                    source__in=list(entries), content_type=content_type
                ).values_list("source", "digest", "object_id", "row_updated_at", "redirects")
            )
            if digest == entries[source]
        }
        if not stored:
            return {}
        current = dict(
            model._default_manager.filter(
                pk__in={object_id for object_id, _at, _r in stored.values()}
            ).values_list("pk", "updated_at")
        )
        return {
            source: redirects
            for source, (object_id, updated_at, redirects) in stored.items()
            if current.get(object_id) == updated_at
        }

    @staticmethod
    def remember(model, rows: list[tuple[str, str, int, object, list[str]]]) -> None:
        """Keep (source, digest, row id, row's updated_at, redirects) for each row written."""
        if not rows:
            return
        content_type = ContentType.objects.get_for_model(model)
        ImportFingerprint.objects.bulk_create(
            [
                ImportFingerprint(
                    source=source,
                    digest=digest,
                    content_type=content_type,
                    object_id=object_id,
                    row_updated_at=updated_at,
                    redirects=redirects,
                )
                for source, digest, object_id, updated_at, redirects in rows
            ],
            update_conflicts=True,
            unique_fields=["source"],
            update_fields=["digest", "content_type", "object_id", "row_updated_at", "redirects"],
            batch_size=1000,
        )
