"""Enqueue a Celery task after the current transaction commits, without ever failing the request.

Celery's own `delay_on_commit` publishes inside Django's on-commit hook and lets a broker error
escape from it. By then the row is committed, so the request answers 500 for something that was
stored: the agent sends the reply again and the sweep later sends the first copy too; the
gateway retries a webhook that Sapa already has. So every on-commit enqueue goes through
`enqueue_on_commit`: a broker that cannot be reached is logged, the caller's `on_failure` marks
the row if the person should see why it waits, and the periodic sweeps (beat) pick the row up
when Redis is back (docs/RELIABILITY.md "Redis and database outages"). Rows are the record, a
task message only a nudge; every task guards on its row's state, so a second nudge does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue_now(
    task,
    *args,
    countdown: float | None = None,
    on_failure: Callable[[], None] | None = None,
    **kwargs,
) -> bool:
    """Publish `task(*args, **kwargs)`; True when the broker took it. Never raises."""
    try:
        task.apply_async(args, kwargs, countdown=countdown)
    except Exception as exc:
        # Usually kombu's OperationalError: Redis is down (after Celery's own publish retries,
        # ~0.6 s). Anything else gets its traceback, but is not raised either: the caller has
        # committed, and its row is what the sweeps read.
        logger.warning(
            "could not enqueue %s%r (%s); the sweep will pick it up",
            task.name,
            args,
            exc,
            exc_info=not isinstance(exc, OperationalError),
        )
        if on_failure is not None:
            try:
                on_failure()
            except Exception:
                logger.warning("marking %s%r as waiting failed", task.name, args, exc_info=True)
        return False
    return True


def enqueue_on_commit(
    task,
    *args,
    countdown: float | None = None,
    on_failure: Callable[[], None] | None = None,
    **kwargs,
) -> None:
    """`enqueue_now` once the current transaction commits (at once outside one; never on
    rollback). `on_failure` runs after commit when the broker refused, outside the transaction."""
    transaction.on_commit(
        lambda: enqueue_now(task, *args, countdown=countdown, on_failure=on_failure, **kwargs)
    )
