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
import uuid
from collections.abc import Iterable
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


# --- Typed events ------------------------------------------------------------------------------
# One TypedDict per event, type `<entity>.<past_tense>`; Channels dispatches each to the
# consumer method named after it (`message.created` → `message_created`). Events carry ids and a
# few primitives, never rendered HTML or customer text: each consumer re-reads the rows and
# renders for its own user.


class MessageCreated(TypedDict):
    type: Literal["message.created"]
    conversation_id: int
    message_id: int
    new_chat: bool  # the page may turn this into a notification


class MessageStatusChanged(TypedDict):
    type: Literal["message.status_changed"]
    conversation_id: int
    message_id: int
    status: str


class ConversationAssigned(TypedDict):
    type: Literal["conversation.assigned"]
    conversation_id: int
    agent_id: int


class ConversationQueued(TypedDict):
    type: Literal["conversation.queued"]
    conversation_id: int
    division_id: int


class ConversationUpdated(TypedDict):
    type: Literal["conversation.updated"]
    conversation_id: int


class ConversationTaken(TypedDict):
    """Sent to the division queue when a queued chat gets an agent: others drop it."""

    type: Literal["conversation.taken"]
    conversation_id: int
    agent_id: int


class ConversationRemoved(TypedDict):
    """Sent to an agent who no longer has the chat (transferred, resolved elsewhere…)."""

    type: Literal["conversation.removed"]
    conversation_id: int


class DeviceStatusChanged(TypedDict):
    type: Literal["device.status_changed"]
    device_id: int
    status: str
    # One id for the one change: a socket reached through several groups (its device, its
    # division's queue, its own) renders it once.
    change_id: str


class SessionEnded(TypedDict):
    type: Literal["session.ended"]


class SessionRegroup(TypedDict):
    """The agent's division or device changed: sockets close and rejoin the right groups."""

    type: Literal["session.regroup"]


class LayerReconnected(TypedDict):
    """Delivered locally (never through Redis) when the layer lost and regained Redis."""

    type: Literal["layer.reconnected"]


Event = (
    MessageCreated
    | MessageStatusChanged
    | ConversationAssigned
    | ConversationQueued
    | ConversationUpdated
    | ConversationTaken
    | ConversationRemoved
    | DeviceStatusChanged
    | SessionEnded
    | dict[str, Any]
)


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

    def send(self, group: str, event: Event) -> None:
        """Hand the push to the publisher's loop and return at once: the caller (a request
        that has just committed) does not wait for Redis. Pushes keep their order: the loop
        runs them first-in first-out."""
        layer = get_channel_layer()
        if layer is None:
            return
        asyncio.run_coroutine_threadsafe(_send(layer, group, event), self._ensure_loop())


async def _send(layer, group: str, event: Event) -> None:
    # Tried twice: after a Redis restart the first publish on a pooled connection fails with
    # "connection closed" and the second reconnects.
    for attempt in (1, 2):
        try:
            await layer.group_send(group, event)
            return
        except Exception:
            if attempt == 2:
                logger.warning("realtime push to %s failed", group, exc_info=True)


_publisher = _LoopPublisher()


def publish(group: str, event: Event) -> None:
    """Send without waiting. Never raises: a lost push is repaired by the page's
    resynchronization after every (re)connect."""
    try:
        _publisher.send(group, event)
    except Exception:
        logger.warning("realtime push to %s failed", group, exc_info=True)


def publish_on_commit(group: str, event: Event) -> None:
    """Send after the current transaction commits (at once outside one); never on rollback."""
    transaction.on_commit(lambda: publish(group, event))


# --- Presence -------------------------------------------------------------------------------


class PresenceChanged(TypedDict):
    type: Literal["presence.changed"]
    agent_id: int
    state: str  # agents.presence.PresenceState: "online" | "away" | "offline"


def publish_presence_changed(*, agent_id: int, state: str) -> None:
    """To the supervisors and to the agent's own sockets (their other tabs show the switch).

    Presence lives in Redis, not in a transaction, so this publishes at once.
    """
    event: PresenceChanged = {"type": "presence.changed", "agent_id": agent_id, "state": state}
    publish(STAFF_GROUP, dict(event))
    publish(agent_group(agent_id), dict(event))


def conversation_group(*, agent_id: int | None, division_id: int) -> str:
    """Who hears about a conversation: its agent, or its division's queue while it has none."""
    return agent_group(agent_id) if agent_id else division_queue_group(division_id)


def message_created_on_commit(
    *,
    conversation_id: int,
    message_id: int,
    agent_id: int | None,
    division_id: int,
    new_chat: bool = False,
) -> None:
    event: MessageCreated = {
        "type": "message.created",
        "conversation_id": conversation_id,
        "message_id": message_id,
        "new_chat": new_chat,
    }
    publish_on_commit(conversation_group(agent_id=agent_id, division_id=division_id), event)


def message_status_changed_on_commit(
    *, conversation_id: int, message_id: int, status: str, agent_id: int | None, division_id: int
) -> None:
    event: MessageStatusChanged = {
        "type": "message.status_changed",
        "conversation_id": conversation_id,
        "message_id": message_id,
        "status": status,
    }
    publish_on_commit(conversation_group(agent_id=agent_id, division_id=division_id), event)


def conversation_updated_on_commit(
    *, conversation_id: int, agent_id: int | None, division_id: int
) -> None:
    event: ConversationUpdated = {
        "type": "conversation.updated",
        "conversation_id": conversation_id,
    }
    publish_on_commit(conversation_group(agent_id=agent_id, division_id=division_id), event)


def device_status_changed_on_commit(
    *,
    device_id: int,
    status: str,
    agent_ids: Iterable[int] = (),
    division_ids: Iterable[int] = (),
) -> None:
    """To the agents who log in with the device, to staff, and to everyone else who has chats
    on it (`chats.selectors.device_audience`: those agents' own groups and those divisions'
    queues); consumers re-check and render each change once."""
    event: DeviceStatusChanged = {
        "type": "device.status_changed",
        "device_id": device_id,
        "status": status,
        "change_id": uuid.uuid4().hex,
    }
    groups = [
        device_group(device_id),
        STAFF_GROUP,
        *(division_queue_group(pk) for pk in division_ids),
        *(agent_group(pk) for pk in agent_ids),
    ]
    for group in groups:
        publish_on_commit(group, event)


# --- Added with the workspace tools ---------------------------------------------------------


class MessageUpdated(TypedDict):
    """A message's content as shown changed (a poll's tally after a vote): re-render its bubble
    in place. Consumer method `message_updated` replaces `#message-<id>` only when the page has
    it (never appends), after re-checking the viewer may see the message."""

    type: Literal["message.updated"]
    conversation_id: int
    message_id: int


def message_updated_on_commit(
    *, conversation_id: int, message_id: int, agent_id: int | None, division_id: int
) -> None:
    """To whoever sees the conversation the update belongs to now (its agent, or its queue).
    `conversation_id` is the updated message's own conversation (maybe an earlier episode)."""
    event: MessageUpdated = {
        "type": "message.updated",
        "conversation_id": conversation_id,
        "message_id": message_id,
    }
    publish_on_commit(conversation_group(agent_id=agent_id, division_id=division_id), event)


# --- The collision guard (chats.services.collision) ------------------------------------------


class ConversationCollision(TypedDict):
    """Someone viewing, typing in or leaving a conversation. Consumer method
    `conversation_collision` renders who else has it open, only on the sockets that show that
    conversation and only for people other than `agent_id`."""

    type: Literal["conversation.collision"]
    conversation_id: int
    agent_id: int


def conversation_collision_publish(
    *, conversation_id: int, agent_id: int, group_agent_id: int | None, division_id: int
) -> None:
    """At once (the state is in Redis, not in a transaction), to the people who may see the
    conversation: its agent, or its division's queue while it has none."""
    event: ConversationCollision = {
        "type": "conversation.collision",
        "conversation_id": conversation_id,
        "agent_id": agent_id,
    }
    publish(conversation_group(agent_id=group_agent_id, division_id=division_id), event)
