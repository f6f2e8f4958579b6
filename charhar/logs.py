"""Log records as one JSON object a line, each carrying the id of the request it belongs to.

`RequestLogMiddleware` (charhar/middleware.py) puts the request's id in `current_request_id`
for as long as the request is being served; `RequestIdFilter`, on the handler, copies it onto
every record that handler writes, whichever logger made it (Django's own "django.request"
errors included). The settings build `LOGGING` with `logging_config()`: JSON for log
collectors (production's default), or plain text lines for a developer's terminal.

Nothing here may import Django's models: logging is configured before the apps are loaded.
"""

import contextvars
import datetime
import json
import logging

from django.core.exceptions import ImproperlyConfigured

# The id of the request being served in this thread, or None outside any request.
current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

# What every LogRecord has; anything else on a record came from `extra=` and is logged too.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "request_id", "taskName"}
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the request id, the
    fields given with `extra=`, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id.get(),
        }
        for name, value in record.__dict__.items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                entry.setdefault(name, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: an object someone passed in `extra=` must not lose the whole line.
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(log_format: str, level: str) -> dict:
    """`LOGGING` for the settings: everything to standard error, as JSON or as text."""
    if log_format not in ("json", "text"):
        raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'text', not {log_format!r}.")
    formatter = (
        {"()": "charhar.logs.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "charhar.logs.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                # Standard error: standard output is a command's own (`manage.py dumpdata > file`).
                "stream": "ext://sys.stderr",
                "filters": ["request_id"],
                "formatter": "default",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}},
    }
