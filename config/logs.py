"""Logging: one line per record, readable in development, JSON for operators (`LOG_FORMAT=json`).

Every process (web, worker, beat, management commands) logs through the standard library with
the `LOGGING` built here; structlog only formats. Its context variables carry the ids of what a
record is about — `request_id`, `task_id`, `device_id`, `conversation_id`, `message_id` — so one
customer message can be followed with one grep, from its webhook through assignment and the
reply's send task to the delivery ticks (README "Logs").

- A request gets its id in `RequestIdMiddleware` (the proxy's `X-Request-ID` when
  `TRUST_REQUEST_ID_HEADER` is on, else a new one) and sends it back in the response header.
- Services bind the ids they learn (`bind_ids`) as they work.
- A Celery task inherits the context of whoever enqueued it (a message header set in
  `config.celery`), so a send task logs the request id of the reply that queued it.

The periodic sweeps and the libraries that would print a line per request or per task are kept
at WARNING here; they log DEBUG when idle and one INFO line when they acted (docs in README).
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import structlog
from django.conf import settings
from django.core.exceptions import PermissionDenied

# What a record can be about; bound by services and carried into tasks.
CONTEXT_KEYS = ("request_id", "task_id", "device_id", "conversation_id", "message_id")
# `extra=` fields a record may add (libraries add objects such as the request; those stay out).
EXTRA_KEYS = (*CONTEXT_KEYS, "agent_id", "status_code")
REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is taken as it is only when it looks like one: no spaces, quotes or newlines to
# forge log lines with, and short enough to grep.
_REQUEST_ID_FORMAT = re.compile(r"[A-Za-z0-9._:-]{8,128}")


def bind_ids(**ids: Any) -> None:
    """Add ids to every record logged from here on in this request or task (None is skipped)."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in ids.items() if v is not None})


def log_context() -> dict[str, Any]:
    """The ids bound now, for a task enqueued from here to carry along."""
    bound = structlog.contextvars.get_contextvars()
    return {key: bound[key] for key in CONTEXT_KEYS if key in bound}


def log_context_start(**ids: Any) -> None:
    """Forget what an earlier request or task on this thread bound, then bind these ids."""
    structlog.contextvars.clear_contextvars()
    bind_ids(**ids)


def request_id_from(header: str | None, *, trusted: bool) -> str:
    if trusted and header and _REQUEST_ID_FORMAT.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Binds a request id to every record of the request and returns it as `X-Request-ID`."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(
            request.headers.get(REQUEST_ID_HEADER), trusted=settings.TRUST_REQUEST_ID_HEADER
        )
        # Not cleared at the end: Django logs a 4xx/5xx answer after the middleware returns.
        log_context_start(request_id=request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RefusalWithoutTraceback(logging.Filter):
    """A refused page (403) is an everyday answer, not a crash: one line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True


def _drop_request_id(_logger, _name, event_dict: dict) -> dict:
    # In a person's console the request id is noise; the JSON lines keep it.
    event_dict.pop("request_id", None)
    return event_dict


def _renderer(log_format: str):
    if log_format == "json":
        return [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ]
    return [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        _drop_request_id,
        structlog.dev.ConsoleRenderer(colors=False, pad_event_to=0, pad_level=False),
    ]


def logging_config(*, level: str, log_format: str) -> dict:
    """The LOGGING setting. `log_format`: "console" (default) or "json"."""
    if log_format not in ("console", "json"):
        raise ValueError(f"LOG_FORMAT must be 'console' or 'json', not {log_format!r}")
    pre_chain = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(allow=EXTRA_KEYS),
    ]
    if log_format == "json":
        pre_chain.append(structlog.processors.TimeStamper(fmt="iso", utc=True))
    # Per task and per request lines from libraries: shown only when debugging.
    chatty = "DEBUG" if level.upper() == "DEBUG" else "WARNING"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"refusal_without_traceback": {"()": RefusalWithoutTraceback}},
        "formatters": {
            "sapa": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": _renderer(log_format),
                "foreign_pre_chain": pre_chain,
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "sapa"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own console handler printed every request warning a second time.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.request": {"filters": ["refusal_without_traceback"]},
            # Uvicorn's own handler would bypass the JSON format. Only `uvicorn.error` (its
            # every message but the access log): naming its parent `uvicorn` would switch the
            # access log back on, which the Procfile turns off (webhook URLs carry a key).
            "uvicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # Like Uvicorn's "running on", the worker's "ready" line shows at any LOG_LEVEL:
            # supervisors, people and tests wait for it.
            "celery.apps.worker": {"level": "INFO"},
            "axes": {"level": "WARNING"},
            # "Task … received / succeeded" for every task, "Sending due task" for every beat
            # tick, and a line per gateway call (with the webhook key in its URL): Sapa logs the
            # events themselves instead.
            "celery.worker.strategy": {"level": chatty},
            "celery.app.trace": {"level": chatty},
            "celery.beat": {"level": chatty},
            "httpx": {"level": chatty},
            "httpcore": {"level": "WARNING"},
        },
    }
