"""Notification signals over real sockets (the ASGI application, sessions, the Redis channel
layer): which pushes carry a `#live-signal` for the page's sound, desktop notification and
title count, for whom, and what it says; and that pushes render in the viewer's time zone."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async

from agents.models import Agent
from chats.models import Conversation, Message
from chats.services.outbound import message_reply_create
from chats.services.transfer import conversation_transfer, conversation_transfer_by_user
from tests.factories import StaffFactory
from tests.fonnte import fixture

from .test_live_inbound import QUIET, open_socket, webhook

pytestmark = pytest.mark.django_db(transaction=True)


def signal_of(frame: str) -> dict[str, str] | None:
    """The signal element's data attributes (still HTML-escaped), or None when there is none."""
    match = re.search(r'<div id="live-signal" hidden([^>]*)>', frame)
    if match is None:
        return None
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', match.group(1)))


async def first_chat(fonnte_device, sales_agents):
    """Both agents connected; Rama's first message arrives and rotation gives it to one of
    them. Returns (assignee's socket, colleague's socket, assignee, colleague, conversation)."""
    sockets = {a.agent.pk: await open_socket(a) for a in sales_agents}
    assert (
        await sync_to_async(webhook)(
            fonnte_device, "incoming", fixture("incoming_private_captured")
        )
        == 200
    )
    conversation = await sync_to_async(Conversation.objects.get)()
    assignee = next(a for a in sales_agents if a.agent.pk == conversation.agent_id)
    colleague = next(a for a in sales_agents if a is not assignee)
    socket = sockets[assignee.agent.pk]
    signal = signal_of(await socket.receive_from(timeout=5))
    assert signal is not None and signal["kind"] == "new-chat"
    assert signal["title"] == "Rama"
    assert signal["body"] == "New chat: Halo"
    return socket, sockets[colleague.agent.pk], assignee, colleague, conversation


async def test_a_new_message_in_the_agents_chat_signals_only_to_that_agent(
    fonnte_device, sales_agents
):
    mine, colleagues, _, _, conversation = await first_chat(fonnte_device, sales_agents)

    body = fixture("incoming_with_inboxid_and_timestamp")
    assert await sync_to_async(webhook)(fonnte_device, "incoming", body) == 200

    frame = await mine.receive_from(timeout=5)
    message = await sync_to_async(Message.objects.filter(text="Mau pesan 2").get)()
    assert f'id="message-{message.pk}"' in frame
    signal = signal_of(frame)
    assert signal == {
        "kind": "message",
        "conversation-id": str(conversation.pk),
        "seq": f"message-{message.pk}",
        "url": f"/inbox/c/{conversation.pk}",
        "name": "Rama",
        "title": "Rama",
        "body": "Mau pesan 2",
    }
    assert await colleagues.receive_nothing(timeout=QUIET)
    await mine.disconnect()
    await colleagues.disconnect()


async def test_the_agents_own_reply_is_pushed_without_a_signal(fonnte_device, sales_agents):
    mine, colleagues, assignee, _, conversation = await first_chat(fonnte_device, sales_agents)

    def reply():
        message_reply_create(
            conversation=Conversation.objects.get(pk=conversation.pk),
            agent=Agent.objects.get(pk=assignee.agent.pk),
            text="Halo Rama, ada yang bisa dibantu?",
        )

    await sync_to_async(reply)()
    frame = await mine.receive_from(timeout=5)
    assert "ada yang bisa dibantu" in frame
    assert signal_of(frame) is None
    assert await colleagues.receive_nothing(timeout=QUIET)
    await mine.disconnect()
    await colleagues.disconnect()


async def test_a_transferred_chat_tells_the_new_agent_who_sent_it(fonnte_device, sales_agents):
    old, new, assignee, colleague, conversation = await first_chat(fonnte_device, sales_agents)

    await sync_to_async(conversation_transfer)(
        conversation=conversation, by_agent=assignee.agent, to_agent=colleague.agent
    )

    frame = await new.receive_from(timeout=5)
    signal = signal_of(frame)
    assert signal is not None
    assert signal["kind"] == "transfer"
    assert signal["title"] == f"Chat transferred to you by {assignee.agent.name}"
    assert signal["body"] == "Rama: Halo"
    gone = await old.receive_from(timeout=5)
    assert f"delete:#conversation-{conversation.pk}" in gone
    assert signal_of(gone) is None
    await old.disconnect()
    await new.disconnect()


async def test_a_supervisors_transfer_says_so(fonnte_device, sales_agents):
    old, new, _, colleague, conversation = await first_chat(fonnte_device, sales_agents)
    supervisor = await sync_to_async(StaffFactory)()

    await sync_to_async(conversation_transfer_by_user)(
        conversation=conversation, by_user=supervisor, to_agent=colleague.agent
    )

    signal = signal_of(await new.receive_from(timeout=5))
    assert signal is not None and signal["kind"] == "transfer"
    assert signal["title"] == "Chat transferred to you by a supervisor"
    await old.disconnect()
    await new.disconnect()


async def test_pushes_render_times_in_each_viewers_time_zone(fonnte_device, sales_agents):
    zones = {sales_agents[0].agent.pk: "Asia/Jayapura", sales_agents[1].agent.pk: "Asia/Makassar"}

    def set_zones():
        for agent_id, zone in zones.items():
            Agent.objects.filter(pk=agent_id).update(time_zone=zone)

    await sync_to_async(set_zones)()
    mine, colleagues, assignee, _, _ = await first_chat(fonnte_device, sales_agents)

    assert (
        await sync_to_async(webhook)(
            fonnte_device, "incoming", fixture("incoming_with_inboxid_and_timestamp")
        )
        == 200
    )
    frame = await mine.receive_from(timeout=5)
    message = await sync_to_async(Message.objects.filter(text="Mau pesan 2").get)()
    zone = ZoneInfo(zones[assignee.agent.pk])
    shown = message.created_at.astimezone(zone).strftime("%H:%M")
    jakarta = message.created_at.astimezone(ZoneInfo("Asia/Jakarta")).strftime("%H:%M")
    assert shown != jakarta
    assert f">{shown}</time>" in frame
    assert f">{jakarta}</time>" not in frame
    await mine.disconnect()
    await colleagues.disconnect()
