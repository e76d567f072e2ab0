"""WebSocket interfaces. Groups are the authorization boundary: a socket joins, once at connect,
only the groups its user may see (DESIGN.md "Realtime")."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from agents.selectors import agent_get_for_user

from . import realtime

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


class StaffConsumer(_GroupsConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        await self.join([realtime.STAFF_GROUP])
        await self.accept()
