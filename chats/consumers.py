"""WebSocket interfaces. Groups are the authorization boundary: a socket joins, once at connect,
only the groups its user may see (DESIGN.md "Realtime")."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from agents import presence
from agents.selectors import agent_get_for_user

from . import realtime
from .services.assignment import queue_drain

logger = logging.getLogger(__name__)

# Close codes in the 4000 range are ours; the page reads them to stop reconnecting.
CLOSE_NOT_ALLOWED = 4403
CLOSE_SESSION_ENDED = 4401


class _GroupsConsumer(AsyncWebsocketConsumer):
    """Joins a list of groups at connect and leaves exactly those at disconnect."""

    joined: list[str]

    async def join(self, groups: list[str]) -> None:
        self.joined = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        # Groups added in connect() are not discarded by Channels itself.
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def session_ended(self, event: dict) -> None:
        await self.close(code=CLOSE_SESSION_ENDED)

    # --- Placeholder handlers (rotation issue) -------------------------------------------------
    # Channels raises for an event type without a handler, which would kill the socket. These
    # no-ops let the rotation publish now; the workspace issue replaces them with renderers.
    async def conversation_assigned(self, event: dict) -> None:
        pass

    async def conversation_queued(self, event: dict) -> None:
        pass

    async def presence_changed(self, event: dict) -> None:
        pass

    # --- end of placeholder handlers -----------------------------------------------------------


class AgentConsumer(_GroupsConsumer):
    async def connect(self) -> None:
        self.agent = await database_sync_to_async(agent_get_for_user)(user=self.scope.get("user"))
        if self.agent is None:
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        await self.join(
            [
                realtime.agent_group(self.agent.pk),
                realtime.division_queue_group(self.agent.division_id),
                realtime.device_group(self.agent.device_id),
            ]
        )
        await self.accept()
        await self.presence_start()

    async def disconnect(self, code: int) -> None:
        await self.presence_stop()
        await super().disconnect(code)

    # --- Presence heartbeat and queue drain (rotation issue) -----------------------------------
    # Redis-only calls run off the shared sync thread (thread_sensitive=False): they touch no
    # ORM state and must not queue behind database work.
    async def presence_start(self) -> None:
        self.presence_conn = presence.new_connection_id()
        try:
            await sync_to_async(presence.presence_connect, thread_sensitive=False)(
                agent_id=self.agent.pk, conn=self.presence_conn
            )
        except Exception:
            logger.warning("presence connect failed for agent %s", self.agent.pk, exc_info=True)
        self.presence_task = asyncio.create_task(self.presence_heartbeat())
        # The agent may have just become eligible: hand them (or a colleague) waiting chats.
        try:
            agent = self.agent
            await database_sync_to_async(lambda: queue_drain(division=agent.division))()
        except Exception:
            logger.warning("queue drain on connect failed", exc_info=True)

    async def presence_heartbeat(self) -> None:
        while True:
            await asyncio.sleep(settings.PRESENCE_HEARTBEAT_SECONDS)
            try:
                await sync_to_async(presence.presence_heartbeat, thread_sensitive=False)(
                    agent_id=self.agent.pk, conn=self.presence_conn
                )
            except Exception:
                # The key expires if this keeps failing: the agent shows offline, as they should
                # when we cannot vouch for them.
                logger.warning("presence heartbeat failed", exc_info=True)

    async def presence_stop(self) -> None:
        task = getattr(self, "presence_task", None)
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:
            await sync_to_async(presence.presence_disconnect, thread_sensitive=False)(
                agent_id=self.agent.pk, conn=self.presence_conn
            )
        except Exception:
            logger.warning("presence disconnect failed", exc_info=True)

    # --- end of presence -----------------------------------------------------------------------


class StaffConsumer(_GroupsConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        await self.join([realtime.STAFF_GROUP])
        await self.accept()
