"""The supervisors' socket, `/ws/staff/` (DESIGN.md "Realtime": the `staff` group).

The socket joins `staff` (presence and device events of every division) and, for the divisions
its user supervises, their queue groups and their agents' groups. Every event is filtered in
memory against the scope read at connect and re-read at each render: an event about an agent or
a device outside the scope changes nothing and sends nothing. Relevant events mark the board
dirty; one render per `SUPERVISION_BOARD_DEBOUNCE_SECONDS` at most, and one every
`SUPERVISION_BOARD_REFRESH_SECONDS` anyway (ages and per-minute rates move with the clock, and
agent groups joined at connect miss agents added later). A render that equals the last one
sends nothing. The first render after connect is the page's resynchronization.

Two pages open this socket: the board (`?board=1`), which gets the board, and the device
console on a device's admin page, which gets that device's status card on each
`device.status_changed` (`chats.live.render_device_status_for_staff`). Both are scoped alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from chats import live as chats_live
from chats.consumers import CLOSE_NOT_ALLOWED, CLOSE_RESYNC, rendered
from realtime import publisher as realtime

from .live import render_board, scope_reread
from .scope import divisions_for_scope

logger = logging.getLogger(__name__)


def _refresh_seconds() -> float:
    return float(getattr(settings, "SUPERVISION_BOARD_REFRESH_SECONDS", 10.0))


def _debounce_seconds() -> float:
    return float(getattr(settings, "SUPERVISION_BOARD_DEBOUNCE_SECONDS", 1.0))


def _groups_for(scope, agent_divisions: dict[int, int]) -> list[str]:
    division_ids = list(divisions_for_scope(scope=scope).values_list("pk", flat=True))
    return (
        [realtime.STAFF_GROUP]
        + [realtime.division_queue_group(d) for d in division_ids]
        + [realtime.agent_group(a) for a in sorted(agent_divisions)]
    )


class SupervisorConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        user_id = user.pk if user is not None and user.is_authenticated else None
        scope, agents, devices = await database_sync_to_async(scope_reread)(user_id=user_id)
        if scope is None:
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.user_id = user_id
        self.board_scope, self.agent_divisions, self.device_divisions = scope, agents, devices
        self.language = chats_live.language_from_scope(self.scope)
        self.last_html = ""
        self.dirty = asyncio.Event()
        self.dirty.set()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.wants_board = query.get("board") == ["1"]
        groups = await database_sync_to_async(_groups_for)(scope, agents)
        self.joined = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        if self.wants_board:
            self.render_task = asyncio.create_task(self.render_loop())

    async def disconnect(self, code: int) -> None:
        task = getattr(self, "render_task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        groups, self.joined = getattr(self, "joined", []), []
        for group in groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def render_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.dirty.wait(), timeout=_refresh_seconds())
            self.dirty.clear()
            try:
                await self.render()
            except Exception:
                logger.warning("board render failed", exc_info=True)
            await asyncio.sleep(_debounce_seconds())

    async def render(self) -> None:
        scope, agents, devices = await rendered(scope_reread)(user_id=self.user_id)
        if scope is None:
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.board_scope, self.agent_divisions, self.device_divisions = scope, agents, devices
        html = await rendered(render_board)(scope=scope, language=self.language)
        if html != self.last_html:
            self.last_html = html
            await self.send(text_data=html)

    # Channel-layer events: every type is routed here instead of to a method per type, since
    # agent and queue groups carry many (and new) types the board only counts as "changed".
    async def dispatch(self, message: dict) -> None:
        kind = message.get("type", "")
        if kind.startswith("websocket."):
            await super().dispatch(message)
            return
        if kind == "layer.reconnected":
            await self.close(code=CLOSE_RESYNC)
            return
        if not self.relevant(message):
            return
        if self.wants_board:
            self.dirty.set()
        elif kind == "device.status_changed":
            html = await rendered(chats_live.render_device_status_for_staff)(
                language=self.language, device_id=message["device_id"]
            )
            if html.strip():
                await self.send(text_data=html)

    def relevant(self, event: dict) -> bool:
        kind = event.get("type")
        if kind == "presence.changed":
            return event.get("agent_id") in self.agent_divisions
        if kind == "device.status_changed":
            return event.get("device_id") in self.device_divisions
        if kind == "supervision.acted":
            return self.board_scope.allows(event.get("division_id"))
        if kind in ("session.ended", "session.regroup"):
            return True
        # Everything else reaches this socket only through the groups of its own scope.
        return True
