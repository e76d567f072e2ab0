from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from agents.services import agent_token_regenerate
from chats.consumers import CLOSE_SESSION_ENDED
from config.asgi import application
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")


def session_cookie_for_agent(token: str) -> bytes:
    client = Client()
    response = client.post(
        reverse("agents:login"), {"device_number": "6281100000001", "token": token}
    )
    assert response.status_code == 302
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def session_cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(path: str, cookie: bytes | None = None, origin=ORIGIN):
    headers = [origin] + ([(b"cookie", cookie)] if cookie else [])
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


async def test_anonymous_socket_is_refused():
    communicator, connected = await connect("/ws/agent/")
    assert not connected
    await communicator.disconnect()


async def test_agent_socket_is_accepted(agent_with_token):
    cookie = await sync_to_async(session_cookie_for_agent)(agent_with_token.token)
    communicator, connected = await connect("/ws/agent/", cookie)
    assert connected
    await communicator.disconnect()


async def test_socket_from_a_foreign_origin_is_refused(agent_with_token):
    cookie = await sync_to_async(session_cookie_for_agent)(agent_with_token.token)
    communicator, connected = await connect(
        "/ws/agent/", cookie, origin=(b"origin", b"http://evil.example")
    )
    assert not connected
    await communicator.disconnect()


async def test_staff_without_agent_cannot_open_the_agent_socket():
    staff = await sync_to_async(StaffFactory)()
    cookie = await sync_to_async(session_cookie_for)(staff)
    communicator, connected = await connect("/ws/agent/", cookie)
    assert not connected
    await communicator.disconnect()


async def test_staff_socket_accepts_staff_and_refuses_agents(agent_with_token):
    staff = await sync_to_async(StaffFactory)()
    staff_socket, staff_ok = await connect(
        "/ws/staff/", await sync_to_async(session_cookie_for)(staff)
    )
    assert staff_ok
    await staff_socket.disconnect()
    agent_cookie = await sync_to_async(session_cookie_for_agent)(agent_with_token.token)
    agent_socket, agent_ok = await connect("/ws/staff/", agent_cookie)
    assert not agent_ok
    await agent_socket.disconnect()


async def test_regenerating_the_token_closes_the_open_socket(agent_with_token):
    cookie = await sync_to_async(session_cookie_for_agent)(agent_with_token.token)
    communicator, connected = await connect("/ws/agent/", cookie)
    assert connected
    await sync_to_async(agent_token_regenerate)(agent=agent_with_token.agent)
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_SESSION_ENDED}
    # And the old session cannot open a new one.
    again, reconnected = await connect("/ws/agent/", cookie)
    assert not reconnected
    await again.disconnect()


async def test_moving_an_agent_to_another_division_makes_their_socket_rejoin(agent_with_token):
    from chats.consumers import CLOSE_RESYNC
    from tests.factories import DivisionFactory

    cookie = await sync_to_async(session_cookie_for_agent)(agent_with_token.token)
    communicator, connected = await connect("/ws/agent/", cookie)
    assert connected

    def move_in_admin():
        staff = StaffFactory(is_superuser=True)
        client = Client()
        client.force_login(staff)
        agent = agent_with_token.agent
        support = DivisionFactory(name="Support")
        response = client.post(
            reverse("admin:agents_agent_change", args=[agent.pk]),
            {
                "name": agent.name,
                "device": agent.device_id,
                "division": support.pk,
                "is_active": "on",
            },
        )
        assert response.status_code == 302

    await sync_to_async(move_in_admin)()
    # The old division's queue group must not keep feeding this page: it reconnects instead.
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_RESYNC}
