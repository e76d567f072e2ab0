"""Tasks of the assignment flow: the safety nets behind the queue drain and presence."""

from __future__ import annotations

import logging

from celery import shared_task

from agents.presence import presence_sweep
from chats.services.assignment import queue_drain_all

__all__ = ["presence_sweep_task", "queue_drain_task"]

logger = logging.getLogger(__name__)


@shared_task(name="chats.queue_drain")
def queue_drain_task() -> dict[int, int]:
    """Assign queued chats in every division that has some (every ~30 s from beat).

    Drains are triggered where eligibility changes (socket connect, away off, resolve); this
    catches what no event announces (a limit raised in the admin, a drain that found nobody).
    Safe to run concurrently or twice: each drain holds its division's pool lock.
    """
    assigned = queue_drain_all()
    if assigned:
        logger.info(
            "queue drain assigned %d chats (by division: %s)", sum(assigned.values()), assigned
        )
    else:
        logger.debug("queue drain: nothing to assign")
    return {str(k): v for k, v in assigned.items()}


@shared_task(name="chats.presence_sweep")
def presence_sweep_task() -> dict[str, str]:
    """Publish agents who went offline because their heartbeats stopped (every ~10 s)."""
    changes = presence_sweep()
    if changes:
        logger.info("presence sweep published %d changes: %s", len(changes), changes)
    else:
        logger.debug("presence sweep: no change")
    return {str(k): v for k, v in changes.items()}
