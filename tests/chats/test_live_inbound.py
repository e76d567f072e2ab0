"""End to end over the real Redis channel layer: webhook POST → commit → publisher → each
socket's consumer renders for its own user (or sends nothing)."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from agents.services import agent_create
from chats.models import Conversation, Message
from config.asgi import application
from tests.factories import ContactFactory, ConversationFactory, DeviceFactory, DivisionFactory
from tests.fonnte import fixture, hook_url

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")
QUIET = 0.5  # how long a socket must stay silent to count as "received nothing"


def login_cookie(device_number: str, token: str, language: str | None = None) -> bytes:
    client = Client()
    response = client.post(
        reverse("agents:login"), {"device_number": device_number, "token": token}
    )
    assert response.status_code == 302
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    if language:
        cookie += f"; django_language={language}"
    return cookie.encode()


async def open_socket(agent_with_token, *, language: str | None = None) -> WebsocketCommunicator:
    agent = agent_with_token.agent
    number = await sync_to_async(lambda: agent.device.number)()
    cookie = await sync_to_async(login_cookie)(number, agent_with_token.token, language)
    socket = WebsocketCommunicator(application, "/ws/agent/", headers=[ORIGIN, (b"cookie", cookie)])
    connected, _ = await socket.connect()
    assert connected
    return socket


def webhook(device, kind: str, body: dict) -> int:
    response = Client().post(
        hook_url(device, kind), json.dumps(body), content_type="application/json"
    )
    return response.status_code


@pytest.fixture
def other_division_agent(db):
    division = DivisionFactory(name="Support", online_only=False)
    device = DeviceFactory(number="6287700000009", division=division)
    return agent_create(
        name="Citra", device=device, division=division, token="sapa_test-token-citra"
    )


async def test_webhook_reaches_only_the_assigned_agents_socket(
    fonnte_device, sales_agents, other_division_agent
):
    sockets = {a.agent.pk: await open_socket(a) for a in [*sales_agents, other_division_agent]}
    status = await sync_to_async(webhook)(
        fonnte_device, "incoming", fixture("incoming_private_captured")
    )
    assert status == 200
    message = await sync_to_async(Message.objects.select_related("conversation").get)()
    assignee = message.conversation.agent_id
    assert assignee in {a.agent.pk for a in sales_agents}

    frame = await sockets[assignee].receive_from(timeout=5)
    assert f'id="message-{message.pk}"' in frame
    assert f'id="conversation-{message.conversation_id}"' in frame
    assert 'hx-swap-oob="beforeend:#thread-' in frame
    assert "Halo" in frame and "Rama" in frame
    assert 'data-kind="new-chat"' in frame  # the page turns this into a notification
    for agent_id, socket in sockets.items():
        if agent_id != assignee:
            assert await socket.receive_nothing(timeout=QUIET)
    for socket in sockets.values():
        await socket.disconnect()


async def test_a_retry_pushes_nothing_new(fonnte_device, sales_agents):
    sockets = [await open_socket(a) for a in sales_agents]
    body = fixture("incoming_with_inboxid_and_timestamp")
    await sync_to_async(webhook)(fonnte_device, "incoming", body)
    conversation = await sync_to_async(Conversation.objects.get)()
    assignee = next(
        s for s, a in zip(sockets, sales_agents, strict=True) if a.agent.pk == conversation.agent_id
    )
    assert "Mau pesan 2" in await assignee.receive_from(timeout=5)
    assert await sync_to_async(webhook)(fonnte_device, "incoming", body) == 200
    for socket in sockets:
        assert await socket.receive_nothing(timeout=QUIET)
        await socket.disconnect()


async def test_queued_chat_goes_to_the_whole_division_queue_only(
    fonnte_device, sales_agents, other_division_agent
):
    def queued_conversation():
        # Everyone is at capacity, so neither the new message nor the drain on connect can
        # assign it: it stays in the queue.
        division = fonnte_device.division
        division.max_open_chats = 0
        division.save(update_fields=["max_open_chats"])
        contact = ContactFactory(device=fonnte_device, address="6282100000002", name="Rama")
        return ConversationFactory(contact=contact)

    conversation = await sync_to_async(queued_conversation)()
    division_sockets = [await open_socket(a) for a in sales_agents]
    outsider = await open_socket(other_division_agent)
    await sync_to_async(webhook)(fonnte_device, "incoming", fixture("incoming_private_captured"))
    for socket in division_sockets:
        frame = await socket.receive_from(timeout=5)
        assert f'id="conversation-{conversation.pk}"' in frame
        assert "Queue" in frame
    assert await outsider.receive_nothing(timeout=QUIET)
    for socket in [*division_sockets, outsider]:
        await socket.disconnect()


async def test_group_message_renders_the_author(fonnte_device, sales_agents):
    sockets = [await open_socket(a) for a in sales_agents]
    await sync_to_async(webhook)(fonnte_device, "incoming", fixture("incoming_group_captured"))
    conversation = await sync_to_async(Conversation.objects.get)()
    index = [a.agent.pk for a in sales_agents].index(conversation.agent_id)
    frame = await sockets[index].receive_from(timeout=5)
    assert 'class="message-author">Sari<' in frame
    for socket in sockets:
        await socket.disconnect()


async def test_status_updates_push_ticks_to_the_agent(fonnte_device, sales_agents):
    ani = sales_agents[0]

    def conversation_with_sent_message():
        contact = ContactFactory(device=fonnte_device, address="6282100000002")
        conversation = ConversationFactory(
            contact=contact, agent=ani.agent, status=Conversation.Status.OPEN
        )
        return Message.objects.create(
            conversation=conversation,
            device=fonnte_device,
            direction=Message.Direction.OUT,
            status=Message.Status.SENDING,
            text="Siap kak",
            gateway_message_id="80367170",
        )

    message = await sync_to_async(conversation_with_sent_message)()
    socket = await open_socket(ani)
    other = await open_socket(sales_agents[1])
    await sync_to_async(webhook)(fonnte_device, "status", fixture("status_id_and_stateid"))
    frame = await socket.receive_from(timeout=5)
    assert f'id="message-{message.pk}-status"' in frame and 'data-status="sent"' in frame
    await sync_to_async(webhook)(fonnte_device, "status", fixture("status_stateid_only_read"))
    assert 'data-status="read"' in await socket.receive_from(timeout=5)
    # A late "delivered" after "read" changes nothing, so nothing is pushed.
    await sync_to_async(webhook)(fonnte_device, "status", fixture("status_stateid_only_delivered"))
    assert await socket.receive_nothing(timeout=QUIET)
    assert await other.receive_nothing(timeout=QUIET)
    await socket.disconnect()
    await other.disconnect()


async def test_device_disconnect_shows_a_banner_to_that_devices_agents(
    fonnte_device, sales_agents, other_division_agent
):
    sockets = [await open_socket(a) for a in sales_agents]
    outsider = await open_socket(other_division_agent)
    await sync_to_async(webhook)(fonnte_device, "connect", fixture("connect_disconnect"))
    for socket in sockets:
        frame = await socket.receive_from(timeout=5)
        assert f'id="device-{fonnte_device.pk}-banner"' in frame
        assert "logged out from phone" in frame
    assert await outsider.receive_nothing(timeout=QUIET)
    await sync_to_async(webhook)(fonnte_device, "connect", fixture("connect_connect"))
    frame = await sockets[0].receive_from(timeout=5)
    assert 'data-status="connected"' in frame and "device-banner" not in frame.split("slot", 1)[1]
    for socket in [*sockets, outsider]:
        await socket.disconnect()


async def test_push_is_rechecked_a_chat_transferred_away_is_removed(fonnte_device, sales_agents):
    """The consumer re-reads permission at push time: an event about a conversation the agent
    no longer has renders its removal, never its content."""
    from realtime import publisher as realtime

    ani, budi = sales_agents

    def conversation_of_budi():
        contact = ContactFactory(device=fonnte_device, address="6282100000002", name="Rama")
        return ConversationFactory(
            contact=contact,
            agent=budi.agent,
            status=Conversation.Status.OPEN,
            last_message_preview="secret text",
        )

    conversation = await sync_to_async(conversation_of_budi)()
    socket = await open_socket(ani)
    await sync_to_async(realtime.publish)(
        realtime.agent_group(ani.agent.pk),
        {"type": "conversation.updated", "conversation_id": conversation.pk},
    )
    frame = await socket.receive_from(timeout=5)
    assert f'hx-swap-oob="delete:#conversation-{conversation.pk}"' in frame
    assert "secret text" not in frame and "Rama" not in frame
    await socket.disconnect()


async def test_tab_counts_come_with_a_new_chat_not_with_an_appended_message(
    fonnte_device, sales_agents
):
    # An appended message moves no chat between tabs: its push skips the two COUNT queries.
    sockets = {a.agent.pk: await open_socket(a) for a in sales_agents}
    first = fixture("incoming_private_captured")
    await sync_to_async(webhook)(fonnte_device, "incoming", first)
    conversation = await sync_to_async(Conversation.objects.get)()
    socket = sockets[conversation.agent_id]
    frames = [await socket.receive_from(timeout=5)]
    while 'id="message-' not in frames[-1]:
        frames.append(await socket.receive_from(timeout=5))
    assert any('id="inbox-tab-mine-count"' in frame for frame in frames)
    await socket.receive_nothing(timeout=QUIET)  # the rest of the first chat's pushes

    second = fixture("incoming_with_inboxid_and_timestamp")  # Rama again: "Mau pesan 2"
    await sync_to_async(webhook)(fonnte_device, "incoming", second)
    frame = await socket.receive_from(timeout=5)
    assert "Mau pesan 2" in frame and f'id="conversation-{conversation.pk}"' in frame
    assert "inbox-tab-mine-count" not in frame
    for each in sockets.values():
        await each.disconnect()
