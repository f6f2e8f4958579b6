"""The structured import: JSON Lines and CSV files in the format of docs/imports.md.

Each line (or CSV row) is one record; a record's `type` says what it is (`article`,
`expert`, `publication`, `topic`, …), from the record itself, a `type` column, or the
importer's default type. The records go to `records.ContentWriter`.
"""

import csv
import io
import json
from pathlib import Path

from .common import ImportReport, MediaFolder, Progress
from .fingerprints import digest_of_bytes
from .records import RECORD_TYPES, ContentWriter, run_import

EVENT_COLUMNS = ("starts_at", "ends_at", "time_zone", "venue", "city", "registration_url")


def _error(key: str, message: str, field_name: str = "-") -> dict:
    return {"type": "_error", "_key": key, "_field": field_name, "_message": message}


class JsonLinesReader:
    """Records from a JSON Lines file, one object a line; a bad line becomes a failure."""

    def __init__(self, path: Path, default_type: str | None = None):
        self.path = Path(path)
        self.default_type = default_type
        self.position = 0

    def __iter__(self):
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                self.position += len(raw)
                line = raw.strip()
                if not line:
                    continue
                where = f"{self.path.name} line {number}"
                try:
                    record = json.loads(line)
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    yield _error(where, f"the line is not valid JSON ({exc}).")
                    continue
                if not isinstance(record, dict):
                    yield _error(where, "the line is not a JSON object.")
                    continue
                if self.default_type and "type" not in record:
                    record["type"] = self.default_type
                # What a re-run compares (charhar/transfer/fingerprints.py): the line as read.
                record["_digest"] = digest_of_bytes(
                    line + b"\n" + str(record.get("type", "")).encode()
                )
                yield record


class CsvReader:
    """Records from a CSV file with a header row; lists in a cell are separated by "|".

    Event columns are named `event_starts_at`, `event_venue`, …; a publication's credits
    are the `authors`, `editors` and `translators` columns.
    """

    def __init__(self, path: Path, default_type: str | None = None):
        self.path = Path(path)
        self.default_type = default_type
        self.position = 0

    def __iter__(self):
        with self.path.open("rb") as binary:
            text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
            reader = csv.DictReader(text, restkey="\0extra", restval=None)
            header = reader.fieldnames or []
            for row in reader:
                self.position = binary.tell()
                where = f"{self.path.name} line {reader.line_num}"
                if "\0extra" in row or any(value is None for value in row.values()):
                    yield _error(
                        where,
                        f"the row does not have the header's {len(header)} cells; is a "
                        "comma or a quote out of place?",
                    )
                    continue
                record = {name.strip(): value for name, value in row.items() if name}
                if not record.get("type"):
                    record.pop("type", None)
                    if self.default_type:
                        record["type"] = self.default_type
                event_columns = [f"event_{name}" for name in EVENT_COLUMNS]
                if any(column in record for column in event_columns):
                    values = {
                        name: record.pop(f"event_{name}")
                        for name in EVENT_COLUMNS
                        if f"event_{name}" in record
                    }
                    record["event"] = values if values.get("starts_at") else None
                record.setdefault("_key", record.get("legacy_url") or record.get("slug") or where)
                yield record


def reader_for(path: Path, default_type: str | None, file_format: str | None = None):
    file_format = file_format or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    if file_format == "csv":
        return CsvReader(path, default_type)
    return JsonLinesReader(path, default_type)


def import_structured(
    paths,
    *,
    default_type: str | None = None,
    file_format: str | None = None,
    media_dir=None,
    dry_run: bool = False,
    tz=None,
    create_missing: bool = True,
    batch_size: int = 1000,
    renditions: bool = True,
    compare_all: bool = False,
    progress_stream=None,
    on_record=None,
) -> ImportReport:
    """Import the records of JSON Lines or CSV files (or of export folders) into the database."""
    if default_type and default_type not in RECORD_TYPES:
        raise ValueError(f"“{default_type}” is not a record type.")
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            # An export folder: its content file, and its media beside it.
            media_dir = media_dir or (path / "media")
            path = path / "content.jsonl"
        if not path.is_file():
            raise FileNotFoundError(f"There is no file {path}.")
        files.append(path)
    report = ImportReport(dry_run=dry_run, on_record=on_record)
    writer = ContentWriter(
        report,
        media=MediaFolder(media_dir),
        dry_run=dry_run,
        tz=tz,
        create_missing=create_missing,
        batch_size=batch_size,
        renditions=renditions,
        compare_all=compare_all,
    )
    readers = [reader_for(path, default_type, file_format) for path in files]
    total = sum(path.stat().st_size for path in files)
    progress = Progress(progress_stream, total) if progress_stream is not None else None
    done = [0]

    def records():
        for reader in readers:
            yield from reader
            done[0] += reader.path.stat().st_size
            reader.position = 0

    def position():
        current = next((r.position for r in readers if r.position), 0)
        return done[0] + current

    return run_import(records(), writer, progress, position)
