"""Shared by the workspace-tools tests (transfer, notes, labels, new chat, poll votes): listen
on real channel-layer groups while a service runs, and the people involved."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from chats.models import Conversation
from tests.factories import (
    AgentFactory,
    ContactFactory,
    ConversationFactory,
    DeviceFactory,
    DivisionFactory,
)

T = TypeVar("T")

# How long a group must stay silent, after the expected events, to count as "nothing more".
QUIET = 0.5
# A bound for slow machines, not a timing assertion.
PATIENCE = 10.0


def events_during(
    action: Callable[[], T], *, expect: dict[str, int]
) -> tuple[T, dict[str, list[dict]]]:
    """Subscribe to each group, run `action` (a sync service call, in its own thread so its
    on-commit pushes fire), then collect `expect[group]` events per group and anything more
    that arrives within QUIET seconds (so extra events are seen too)."""
    layer = get_channel_layer()

    async def scenario():
        channels = {}
        for group in expect:
            channel = await layer.new_channel()
            await layer.group_add(group, channel)
            channels[group] = channel
        result = await sync_to_async(action)()
        received: dict[str, list[dict]] = {group: [] for group in expect}
        for group, channel in channels.items():
            for _ in range(expect[group]):
                received[group].append(await asyncio.wait_for(layer.receive(channel), PATIENCE))
            while True:
                try:
                    received[group].append(await asyncio.wait_for(layer.receive(channel), QUIET))
                except TimeoutError:
                    break
            await layer.group_discard(group, channel)
        return result, received

    return async_to_sync(scenario)()


def division(**fields):
    # Agents need not be online to receive chats here: presence has its own tests.
    return DivisionFactory(online_only=False, **fields)


def agent_in(division_, **fields):
    device = fields.pop("device", None) or DeviceFactory(division=division_)
    return AgentFactory(device=device, division=division_, **fields)


def open_chat(agent, **contact_fields) -> Conversation:
    contact = ContactFactory(device=agent.device, **contact_fields)
    return ConversationFactory(
        contact=contact, division=agent.division, agent=agent, status=Conversation.Status.OPEN
    )
