"""The assignment pushes, received from the real channel layer (Redis pub/sub) after commit."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from chats.services.assignment import conversation_assign
from realtime import publisher as realtime
from rotation.models import AssignmentLog
from tests.factories import DivisionFactory

from .helpers import make_agents, new_conversation

pytestmark = pytest.mark.django_db(transaction=True)


async def listen(group: str):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return layer, channel


async def test_assignment_pushes_conversation_assigned_to_the_agent():
    division = await database_sync_to_async(DivisionFactory)(online_only=False)
    (agent,) = await database_sync_to_async(make_agents)(division, 1)
    layer, channel = await listen(realtime.agent_group(agent.pk))
    conversation = await database_sync_to_async(new_conversation)(division)
    await database_sync_to_async(conversation_assign)(
        conversation=conversation, trigger=AssignmentLog.Trigger.NEW_CHAT
    )
    event = await asyncio.wait_for(layer.receive(channel), timeout=5)
    assert event == {
        "type": "conversation.assigned",
        "conversation_id": conversation.pk,
        "agent_id": agent.pk,
    }


async def test_a_queued_chat_is_pushed_to_the_division_queue():
    division = await database_sync_to_async(DivisionFactory)(online_only=True)
    await database_sync_to_async(make_agents)(division, 1)
    layer, channel = await listen(realtime.division_queue_group(division.pk))
    conversation = await database_sync_to_async(new_conversation)(division)
    await database_sync_to_async(conversation_assign)(
        conversation=conversation, trigger=AssignmentLog.Trigger.NEW_CHAT
    )
    event = await asyncio.wait_for(layer.receive(channel), timeout=5)
    assert event == {
        "type": "conversation.queued",
        "conversation_id": conversation.pk,
        "division_id": division.pk,
    }
