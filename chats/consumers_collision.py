"""The collision guard's part of the agent socket (chats.services.collision).

The page sends small JSON reports: `{"collision": "viewing" | "typing" | "left",
"conversation_id": <id>}`. A report counts only for a conversation the agent may see now
(`conversation_get_for_agent`, the same rule as every view and push); the socket remembers
the one conversation its page shows, and renders "who else is here" pushes for that one only,
so a push reaches nobody who may not see the conversation: the publisher sends it to the
conversation's own audience (its agent or its division's queue), and the page must have
shown it.
"""

from __future__ import annotations

import json
import logging
import time

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from realtime import publisher as realtime

from . import live
from .selectors import conversation_get_audience, conversation_get_for_agent
from .services.collision import KINDS, collision_report

logger = logging.getLogger(__name__)

# A page reports typing every couple of seconds; anything faster is dropped unanswered.
MIN_REPORT_INTERVAL = 1.0


class CollisionGuardMixin:
    """For AgentConsumer (which sets `self.agent` and `self.viewer` at connect)."""

    collision_showing: int | None = None

    async def collision_receive(self, text_data: str | None) -> None:
        try:
            data = json.loads(text_data or "")
            kind, conversation_id = data["collision"], data["conversation_id"]
        except (ValueError, TypeError, KeyError):
            return
        if kind not in KINDS or not isinstance(conversation_id, int) or conversation_id < 1:
            return
        last = getattr(self, "collision_last_report", {})
        now = time.monotonic()
        if kind != "left" and now - last.get((kind, conversation_id), -60.0) < MIN_REPORT_INTERVAL:
            return
        if len(last) > 50:
            last = {}
        self.collision_last_report = {**last, (kind, conversation_id): now}
        if kind == "left":
            if conversation_id == self.collision_showing:
                await self.collision_leave()
            return

        conversation = await database_sync_to_async(conversation_get_for_agent)(
            agent_id=self.agent.pk,
            division_id=self.agent.division_id,
            conversation_id=conversation_id,
        )
        if conversation is None:
            if self.collision_showing == conversation_id:
                await self.collision_leave()  # it was theirs to see a moment ago
            return
        arriving = self.collision_showing != conversation_id
        if arriving and self.collision_showing is not None:
            await self.collision_leave()  # a page shows one conversation at a time
        self.collision_showing = conversation_id
        await sync_to_async(collision_report, thread_sensitive=False)(
            conversation=conversation,
            agent_id=self.agent.pk,
            agent_name=self.agent.name,
            kind=kind,
        )
        if kind == "viewing":
            # Who else is here, at once: for a page that just opened the chat (or re-rendered
            # its thread on a resync, emptying the line), not at the others' next report.
            await self.collision_send(conversation_id)

    async def collision_leave(self) -> None:
        """The page left the conversation it showed (or the socket closed): its colleagues stop
        seeing this agent there at once. Also when the agent may no longer see the chat (it
        was taken or moved): telling its audience that someone left reveals nothing."""
        conversation_id = self.collision_showing
        if conversation_id is None:
            return
        self.collision_showing = None
        try:
            conversation = await database_sync_to_async(conversation_get_audience)(
                conversation_id=conversation_id
            )
            if conversation is not None:
                await sync_to_async(collision_report, thread_sensitive=False)(
                    conversation=conversation,
                    agent_id=self.agent.pk,
                    agent_name=self.agent.name,
                    kind="left",
                )
        except Exception:
            # The entry expires by itself (VIEWING_SECONDS); the socket must still close.
            logger.warning("collision leave failed", exc_info=True)

    async def collision_send(self, conversation_id: int) -> None:
        html = await sync_to_async(live.render_collision, thread_sensitive=False)(
            self.viewer, conversation_id=conversation_id
        )
        await self.send_html(html)

    async def conversation_collision(self, event: realtime.ConversationCollision) -> None:
        if event.get("agent_id") == self.agent.pk:
            return  # the agent's own report, maybe from another tab
        conversation_id = event.get("conversation_id")
        if conversation_id is None or conversation_id != self.collision_showing:
            return
        await self.collision_send(conversation_id)
