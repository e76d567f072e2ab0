"""The realtime publisher: the only module that sends to the channel layer.

Services call `publish_on_commit`, so a push never announces a row that a rollback erased.
Events are small typed dicts with ids and a few primitives; each socket's consumer re-reads the
database and renders for its own user. A push is a hint, never the record: pages resynchronize
from the database after every (re)connect.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any, Literal, TypedDict

from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def division_queue_group(division_id: int) -> str:
    return f"division.{division_id}.queue"


def device_group(device_id: int) -> str:
    return f"device.{device_id}"


STAFF_GROUP = "staff"


class SessionEnded(TypedDict):
    type: Literal["session.ended"]


Event = dict[str, Any]


class _LoopPublisher:
    """Runs group_send on one long-lived event loop per process.

    `async_to_sync(group_send)` from sync code makes a new event loop per call, and the pub/sub
    layer keeps its Redis connections per loop: every publish would open new connections (and
    older versions leaked them). One daemon thread owns one loop and one layer instead; it is
    recreated after a fork (Celery's prefork pool).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="sapa-publisher", daemon=True
                )
                thread.start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def send(self, group: str, event: Event, timeout: float = 5.0) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        future = asyncio.run_coroutine_threadsafe(
            layer.group_send(group, event), self._ensure_loop()
        )
        future.result(timeout=timeout)


_publisher = _LoopPublisher()


def publish(group: str, event: Event) -> None:
    """Send now. Never raises: a lost push is repaired by the page's resynchronization."""
    try:
        _publisher.send(group, event)
    except Exception:
        logger.warning("realtime push to %s failed", group, exc_info=True)


def publish_on_commit(group: str, event: Event) -> None:
    transaction.on_commit(lambda: publish(group, event))


# --- Message events (outbound flow) -------------------------------------------------------------


class MessageCreated(TypedDict):
    type: Literal["message.created"]
    message_id: int
    conversation_id: int


class MessageStatusChanged(TypedDict):
    type: Literal["message.status_changed"]
    message_id: int
    conversation_id: int
    status: str


def _conversation_groups(agent_id: int | None, division_id: int) -> list[str]:
    # A reply belongs to an assigned conversation: its agent and the supervisors see it; the
    # division queue never carries the text of a colleague's chat.
    groups = [STAFF_GROUP]
    if agent_id is not None:
        groups.insert(0, agent_group(agent_id))
    else:
        groups.insert(0, division_queue_group(division_id))
    return groups


def message_created_on_commit(
    *, message_id: int, conversation_id: int, agent_id: int | None, division_id: int
) -> None:
    event: MessageCreated = {
        "type": "message.created",
        "message_id": message_id,
        "conversation_id": conversation_id,
    }
    for group in _conversation_groups(agent_id, division_id):
        publish_on_commit(group, dict(event))


def message_status_changed_on_commit(
    *,
    message_id: int,
    conversation_id: int,
    status: str,
    agent_id: int | None,
    division_id: int,
) -> None:
    event: MessageStatusChanged = {
        "type": "message.status_changed",
        "message_id": message_id,
        "conversation_id": conversation_id,
        "status": status,
    }
    for group in _conversation_groups(agent_id, division_id):
        publish_on_commit(group, dict(event))
