"""What every import shares: the report, the progress bar, value parsing and media files."""

import contextlib
import datetime as dt
import hashlib
import sys
import time
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

ACTIONS = ("created", "updated", "unchanged", "skipped")

# The order the summary lists kinds of rows in.
LABELS = (
    "site settings", "topic", "region", "section", "series", "office", "tag", "page", "expert",
    "article", "publication", "menu", "redirect",
)  # fmt: skip

PLURALS = {"series": "series", "site settings": "site settings"}


class RecordError(Exception):
    """A record (or one of its fields) that cannot be imported, and why, in one sentence."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass
class Failure:
    key: str
    field: str
    message: str


@dataclass
class ImportReport:
    """What an import did: counts per kind of row and action, and every failure with its reason."""

    dry_run: bool = False
    counts: dict[str, Counter] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    # Shortcodes removed (name -> count) and other per-source notes.
    shortcodes: Counter = field(default_factory=Counter)
    timings: Counter = field(default_factory=Counter)  # seconds per phase of the writer
    records: int = 0
    elapsed: float = 0.0
    on_record: object = None  # called as on_record(label, action, key) when set

    def add(self, label: str, action: str, key: str = "", n: int = 1) -> None:
        self.counts.setdefault(label, Counter())[action] += n
        if self.on_record is not None and key:
            self.on_record(label, action, key)

    def fail(self, key: str, field_name: str, message: str) -> None:
        self.failures.append(Failure(str(key), field_name or "-", message))
        if self.on_record is not None:
            self.on_record("record", "failed", f"{key}: {field_name}: {message}")

    def warn(self, key: str, message: str) -> None:
        self.warnings.append((str(key), message))

    def total(self, action: str) -> int:
        return sum(counts[action] for counts in self.counts.values())

    def describe(self, action: str) -> str:
        """E.g. "12 articles, 1 expert": the kinds of rows with something in `action`."""
        parts = []
        for label in sorted(self.counts, key=lambda x: LABELS.index(x) if x in LABELS else 99):
            n = self.counts[label][action]
            if n:
                plural = PLURALS.get(label, f"{label}s")
                parts.append(f"{n} {label if n == 1 else plural}")
        return ", ".join(parts)

    @property
    def failed(self) -> int:
        return len(self.failures)


class Progress:
    """A one-line progress bar on a terminal; silent when the stream is not one.

    `total` is the number of units (records, or bytes of the input); without it the bar shows
    a running count.
    """

    def __init__(self, stream, total: int | None = None, *, enabled: bool | None = None,
                 unit: str = "records"):  # fmt: skip
        self.stream = stream
        self.total = total
        self.unit = unit
        if enabled is None:
            isatty = getattr(stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.position = 0
        self.records = 0
        self.started = time.perf_counter()
        self._last = 0.0

    def update(self, position: int | None = None, records: int = 1) -> None:
        self.records += records
        self.position = self.records if position is None else position
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last < 0.1:
            return
        self._last = now
        self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.records / max(now - self.started, 1e-6)
        if self.total:
            share = min(self.position / self.total, 1.0)
            filled = int(share * 30)
            bar = "#" * filled + "-" * (30 - filled)
            line = f"\r[{bar}] {share:4.0%}  {self.records:,} records  {rate:,.0f}/s"
        else:
            line = f"\r{self.records:,} records  {rate:,.0f}/s"
        self.stream.write(line, ending="")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.perf_counter())
            self.stream.write("")


# --- Values ---------------------------------------------------------------------------------


def parse_datetime_value(value, tz: dt.tzinfo | None = None) -> dt.datetime | None:
    """ISO 8601 with or without a time zone (naive values are in `tz`); a bare date is midnight."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    else:
        text = str(value).strip()
        try:
            parsed = parse_datetime(text.replace(" ", "T", 1) if " " in text else text)
        except ValueError:
            parsed = None
        if parsed is None:
            try:
                day = parse_date(text)
            except ValueError:
                day = None
            if day is None:
                raise ValueError(
                    f"“{text}” is not an ISO 8601 date and time (2018-06-18T08:30:00Z)."
                )
            parsed = dt.datetime.combine(day, dt.time())
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=tz or timezone.get_current_timezone())
    return parsed.astimezone(dt.UTC)


def parse_date_value(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        day = parse_date(text[:10])
    except ValueError:
        day = None
    if day is None:
        raise ValueError(f"“{text}” is not an ISO 8601 date (2018-06-18).")
    return day


TRUE = {"1", "true", "yes", "y", "on", "t"}
FALSE = {"0", "false", "no", "n", "off", "f", ""}


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"“{value}” is not true or false.")


def parse_int(value, default: int = 0) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        raise ValueError(f"“{value}” is not a whole number.")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"“{value}” is not a whole number.") from None
    if number < 0:
        raise ValueError(f"{number} is negative; give 0 or more.")
    return number


def time_zone(name: str | None) -> dt.tzinfo:
    if not name:
        return timezone.get_current_timezone()
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"“{name}” is not a time zone name such as Asia/Shanghai.") from None


def iso(value) -> str | None:
    """The export's spelling of a date or time: ISO 8601, times in UTC."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


# --- Media ----------------------------------------------------------------------------------


class MediaFolder:
    """A folder media paths are read from; a path that leads outside it is refused."""

    def __init__(self, root: Path | str | None, option: str = "--media-dir"):
        self.option = option
        self.root = Path(root).resolve() if root else None

    def resolve(self, relative: str, field_name: str) -> Path:
        if self.root is None:
            raise RecordError(
                field_name,
                f"“{relative}” is a media file, but no media folder was given ({self.option}).",
            )
        text = str(relative).strip().replace("\\", "/")
        candidate = (self.root / text.lstrip("/")).resolve()
        if text.startswith("/") or not candidate.is_relative_to(self.root):
            raise RecordError(field_name, f"“{relative}” points outside the media folder; refused.")
        if not candidate.is_file():
            raise RecordError(field_name, f"“{relative}” is not a file in the media folder.")
        return candidate


def file_digest(handle) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def same_content(storage, name: str, source: Path) -> bool:
    """Whether the stored file `name` holds exactly the bytes of `source`."""
    if not name:
        return False
    try:
        if storage.size(name) != source.stat().st_size:
            return False
        with storage.open(name, "rb") as stored, source.open("rb") as original:
            return file_digest(stored) == file_digest(original)
    except (OSError, NotImplementedError):
        return False


def validate_file(model_field, source: Path, field_name: str) -> None:
    """Run the model field's upload validators (image readable, PDF, size limits) on a file."""
    with source.open("rb") as handle:
        upload = File(handle, name=source.name)
        for validator in model_field.validators:
            try:
                validator(upload)
            except ValidationError as exc:
                raise RecordError(field_name, " ".join(exc.messages)) from None


class MediaWriter:
    """Copies media files into the default storage, reusing identical ones; nothing in a dry run.

    Files written are remembered so a batch that is rolled back can remove them again.
    """

    def __init__(self, dry_run: bool):
        self.dry_run = dry_run
        self.written: list[tuple[object, str]] = []

    def store(self, storage, name: str, source: Path) -> str:
        """Save `source` as `name` unless an identical file is already there; the stored name."""
        if same_content(storage, name, source):
            return name
        if self.dry_run:
            return name
        with source.open("rb") as handle:
            stored = storage.save(name, File(handle, name=PurePosixPath(name).name))
        self.written.append((storage, stored))
        return stored

    def attach(self, instance, field_name: str, source: Path, relative: str) -> bool:
        """Give `instance.<field_name>` the file `source`; False when it already has that file.

        The stored name keeps the media-relative path when it already lies in the field's
        upload folder (so an export imports back to the same names), else it is the field's
        usual upload name.
        """
        model_field = instance._meta.get_field(field_name)
        current = getattr(instance, field_name)
        storage = current.storage
        if current.name and same_content(storage, current.name, source):
            return False
        validate_file(model_field, source, field_name)
        top = str(model_field.upload_to).split("/", 1)[0]
        relative = str(relative).strip().lstrip("/")
        if relative.startswith(f"{top}/"):
            name = relative
        else:
            name = model_field.generate_filename(instance, source.name)
        current.name = self.store(storage, name, source)
        return True

    def forget(self) -> None:
        self.written = []

    def discard(self) -> None:
        """Delete the files written since the last `forget()` (their rows were rolled back)."""
        for storage, name in self.written:
            with contextlib.suppress(OSError):
                storage.delete(name)
        self.written = []


def stderr_is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) if isatty else sys.stderr.isatty()
