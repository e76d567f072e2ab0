"""Presence in Redis: heartbeats with a TTL, the grace period, the away switch, the events."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agents.presence import (
    new_connection_id,
    presence_connect,
    presence_disconnect,
    presence_heartbeat,
    presence_set_away,
    presence_state,
    presence_states,
    presence_sweep,
)
from chats.models import Conversation
from config.asgi import application
from realtime import publisher as realtime
from tests.factories import AgentFactory
from tests.rotation.helpers import new_conversation


def wait_for(predicate, timeout: float = 10.0, step: float = 0.05):
    """Poll until the predicate holds (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.fixture
def short_presence(settings):
    # Short enough to keep the suite quick, long enough that a busy CI machine's scheduling
    # hiccups do not let a key expire between two heartbeats.
    settings.PRESENCE_TTL_SECONDS = 2.0
    settings.PRESENCE_HEARTBEAT_SECONDS = 0.25
    settings.PRESENCE_GRACE_SECONDS = 1.0
    return settings


@pytest.mark.django_db
def test_an_agent_is_online_while_any_connection_key_lives(short_presence):
    agent = AgentFactory()
    assert presence_state(agent_id=agent.pk) == "offline"
    tab1, tab2 = new_connection_id(), new_connection_id()
    presence_connect(agent_id=agent.pk, conn=tab1)
    presence_connect(agent_id=agent.pk, conn=tab2)
    assert presence_state(agent_id=agent.pk) == "online"
    # Tab 2 keeps beating, tab 1 stops: still online after tab 1's key has expired.
    deadline = time.monotonic() + short_presence.PRESENCE_TTL_SECONDS * 1.5
    while time.monotonic() < deadline:
        presence_heartbeat(agent_id=agent.pk, conn=tab2)
        time.sleep(0.1)
    assert presence_state(agent_id=agent.pk) == "online"
    # Nobody beats any more (as when a web process dies): the keys expire, the agent is offline.
    assert wait_for(lambda: presence_state(agent_id=agent.pk) == "offline")


@pytest.mark.django_db
def test_a_clean_disconnect_keeps_the_agent_online_for_the_grace_period(settings):
    settings.PRESENCE_TTL_SECONDS = 30
    settings.PRESENCE_GRACE_SECONDS = 2
    agent = AgentFactory()
    conn = new_connection_id()
    presence_connect(agent_id=agent.pk, conn=conn)
    presence_disconnect(agent_id=agent.pk, conn=conn)
    assert presence_state(agent_id=agent.pk) == "online"  # a reload lands here
    presence_connect(agent_id=agent.pk, conn=new_connection_id())
    time.sleep(2.2)  # past the grace period: the new connection holds the agent online
    assert presence_state(agent_id=agent.pk) == "online"

    other = AgentFactory()
    conn = new_connection_id()
    presence_connect(agent_id=other.pk, conn=conn)
    presence_disconnect(agent_id=other.pk, conn=conn)
    assert wait_for(lambda: presence_state(agent_id=other.pk) == "offline")


@pytest.mark.django_db
def test_away_overrides_connections_and_is_reversible():
    agent = AgentFactory()
    presence_connect(agent_id=agent.pk, conn=new_connection_id())
    assert presence_set_away(agent_id=agent.pk, away=True) == "away"
    assert presence_states(agent_ids=[agent.pk]) == {agent.pk: "away"}
    assert presence_set_away(agent_id=agent.pk, away=True) == "away"  # idempotent
    assert presence_set_away(agent_id=agent.pk, away=False) == "online"


async def listen(group: str):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return layer, channel


async def receive(layer, channel):
    return await asyncio.wait_for(layer.receive(channel), timeout=5)


@pytest.mark.django_db(transaction=True)
async def test_presence_changes_are_published_once_to_staff_and_to_the_agent(short_presence):
    agent = await database_sync_to_async(AgentFactory)()
    layer, staff = await listen(realtime.STAFF_GROUP)
    _, own = await listen(realtime.agent_group(agent.pk))
    conn = new_connection_id()
    await database_sync_to_async(presence_connect)(agent_id=agent.pk, conn=conn)
    expected = {"type": "presence.changed", "agent_id": agent.pk, "state": "online"}
    assert await receive(layer, staff) == expected
    assert await receive(layer, own) == expected
    # A second tab changes nothing: no event.
    await database_sync_to_async(presence_connect)(agent_id=agent.pk, conn=new_connection_id())
    await database_sync_to_async(presence_set_away)(agent_id=agent.pk, away=True)
    assert (await receive(layer, staff))["state"] == "away"
    await database_sync_to_async(presence_set_away)(agent_id=agent.pk, away=False)
    assert (await receive(layer, staff))["state"] == "online"
    # Heartbeats stop: nothing announces it until the sweep notices the expired keys.
    await asyncio.sleep(short_presence.PRESENCE_TTL_SECONDS + 0.2)
    assert await database_sync_to_async(presence_sweep)() == {agent.pk: "offline"}
    assert (await receive(layer, staff))["state"] == "offline"
    assert await database_sync_to_async(presence_sweep)() == {}


@pytest.mark.django_db
def test_a_heartbeat_after_expiry_brings_the_agent_back_online(short_presence):
    agent = AgentFactory()
    conn = new_connection_id()
    presence_connect(agent_id=agent.pk, conn=conn)
    assert wait_for(lambda: presence_state(agent_id=agent.pk) == "offline")
    presence_sweep()
    presence_heartbeat(agent_id=agent.pk, conn=conn)
    assert presence_state(agent_id=agent.pk) == "online"
    assert presence_sweep() == {}  # the heartbeat already published the return


# --- Through the real socket ------------------------------------------------------------------

ORIGIN = (b"origin", b"http://localhost")


def login_cookie(agent_with_token) -> bytes:
    client = Client()
    client.post(
        reverse("agents:login"),
        {"device_number": "6281100000001", "token": agent_with_token.token},
    )
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_socket(cookie: bytes):
    communicator = WebsocketCommunicator(
        application, "/ws/agent/", headers=[ORIGIN, (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@pytest.mark.django_db(transaction=True)
async def test_the_socket_heartbeat_keeps_the_agent_online_and_a_close_lets_them_go(
    short_presence, agent_with_token
):
    agent = agent_with_token.agent
    cookie = await database_sync_to_async(login_cookie)(agent_with_token)
    socket = await open_socket(cookie)
    state = database_sync_to_async(presence_state)
    # The consumer opens its presence just after accepting the socket: wait for it.
    for _ in range(200):
        if await state(agent_id=agent.pk) == "online":
            break
        await asyncio.sleep(0.05)
    assert await state(agent_id=agent.pk) == "online"
    # Several TTLs later the heartbeat task has kept the key alive.
    await asyncio.sleep(short_presence.PRESENCE_TTL_SECONDS * 2)
    assert await state(agent_id=agent.pk) == "online"
    await socket.disconnect()
    assert await state(agent_id=agent.pk) == "online"  # grace period
    for _ in range(200):
        if await state(agent_id=agent.pk) == "offline":
            break
        await asyncio.sleep(0.05)
    assert await state(agent_id=agent.pk) == "offline"


@pytest.mark.django_db(transaction=True)
async def test_connecting_drains_the_queue_oldest_first(agent_with_token):
    agent = agent_with_token.agent
    division = agent.division

    def setup():
        division.online_only = True
        division.max_open_chats = 2
        division.save()
        now = timezone.now()
        rows = []
        for minutes in (10, 50, 30):
            conversation = new_conversation(division, device=agent.device)
            Conversation.objects.filter(pk=conversation.pk).update(
                opened_at=now - dt.timedelta(minutes=minutes)
            )
            rows.append(conversation.pk)
        return rows

    newest, oldest, middle = await database_sync_to_async(setup)()
    cookie = await database_sync_to_async(login_cookie)(agent_with_token)
    socket = await open_socket(cookie)

    def mine():
        return set(Conversation.objects.filter(agent=agent).values_list("pk", flat=True))

    # Poll from the event loop: the consumer's drain needs the sync thread meanwhile.
    for _ in range(200):
        if len(await database_sync_to_async(mine)()) == 2:
            break
        await asyncio.sleep(0.05)
    assert await database_sync_to_async(mine)() == {oldest, middle}
    assert await database_sync_to_async(Conversation.objects.get)(pk=newest, status="queued")
    await socket.disconnect()


# --- The away switch --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_workspace_header_shows_the_away_switch(agent_with_token):
    client = Client()
    client.post(
        reverse("agents:login"),
        {"device_number": "6281100000001", "token": agent_with_token.token},
    )
    page = client.get(reverse("chats:inbox")).content.decode()
    assert 'id="away-switch"' in page and 'data-state="available"' in page


@pytest.mark.django_db
def test_the_away_switch_sets_away_and_coming_back_drains_the_queue(agent_with_token):
    agent = agent_with_token.agent
    agent.division.online_only = False
    agent.division.save()
    client = Client()
    client.post(
        reverse("agents:login"),
        {"device_number": "6281100000001", "token": agent_with_token.token},
    )
    response = client.post(reverse("agents:away"), {"away": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'data-state="away"' in response.content.decode()
    assert presence_state(agent_id=agent.pk) == "away"

    conversation = new_conversation(agent.division, device=agent.device)
    response = client.post(reverse("agents:away"), {"away": "0", "next": "/inbox"})
    assert response.status_code == 302 and response["Location"] == "/inbox"
    conversation.refresh_from_db()
    assert conversation.agent == agent
    assert presence_is_online_or_offline(agent.pk)


def presence_is_online_or_offline(agent_id: int) -> bool:
    return presence_state(agent_id=agent_id) in {"online", "offline"}


@pytest.mark.django_db
def test_the_away_switch_needs_a_logged_in_agent_and_a_post(agent_with_token):
    client = Client()
    assert client.post(reverse("agents:away"), {"away": "1"}).status_code == 302  # to login
    client.post(
        reverse("agents:login"),
        {"device_number": "6281100000001", "token": agent_with_token.token},
    )
    assert client.get(reverse("agents:away")).status_code == 405
    assert client.post(reverse("agents:away"), {"away": "1", "next": "https://evil.example/"})[
        "Location"
    ] == reverse("chats:inbox")


@pytest.mark.django_db
def test_the_away_switch_answers_503_and_changes_nothing_without_redis(agent_with_token, settings):
    client = Client()
    client.post(
        reverse("agents:login"),
        {"device_number": "6281100000001", "token": agent_with_token.token},
    )
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.post(reverse("agents:away"), {"away": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 503
    assert 'data-state="unknown"' in response.content.decode()
