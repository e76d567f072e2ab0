"""Shared set-up for the media tests (test_media_*.py): private MEDIA_ROOT, messages, worker."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections

from chats.models import Message
from config.celery import app as celery_app
from tests.factories import ConversationFactory

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
PDF_BYTES = b"%PDF-1.4\n" + b"x" * 3000 + b"\n%%EOF\n"


def chat_message(*, url: str = "", name: str = "", extension: str = "", **fields) -> Message:
    conversation = fields.pop("conversation", None) or ConversationFactory()
    return Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=fields.pop("direction", Message.Direction.IN),
        attachment_url=url,
        attachment_name=name,
        attachment_extension=extension,
        **fields,
    )


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _close_worker_connections(**_kwargs) -> None:
    # The worker thread opens its own database connections; PostgreSQL refuses to drop the test
    # database while they are open.
    connections.close_all()


@contextmanager
def celery_worker():
    """A real Celery worker (solo pool, in a thread) consuming from the test Redis broker."""
    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
            yield
    finally:
        task_postrun.disconnect(_close_worker_connections)


def wait_for(predicate, *, timeout: float = 30.0):
    """Poll until `predicate()` is truthy (a bound on waiting, not a timing assertion)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")
