"""Every way of revoking an agent's access closes their open socket, ends their presence at once
and takes them out of rotation and out of their colleagues' transfer targets (agents.access,
docs/RELIABILITY.md "Presence and revocation").

The agent's socket is the real ASGI application behind Channels' communicator; the revocations
are made the way people make them: posts to the Django admin's forms (user and agent change
pages, delete pages, the regenerate-token button), and queryset updates as a script or a shell
session would run them.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from agents.models import Agent, User
from agents.presence import presence_state
from agents.services import agent_create
from chats.consumers import CLOSE_RESYNC, CLOSE_SESSION_ENDED
from chats.models import Conversation
from chats.selectors import transfer_targets_for_agent
from chats.services.assignment import division_members
from chats.services.transfer import conversation_transfer
from config.asgi import application
from rotation.models import SkipReason
from tests.factories import ConversationFactory, DeviceFactory, DivisionFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")
NUMBER = "6281100000001"


@pytest.fixture
def desk(settings, agent_with_token):
    # A long grace period: a socket that merely closed would keep the agent online all test
    # long, so "offline" below can only come from access ending at once.
    settings.PRESENCE_HEARTBEAT_SECONDS = 0.1
    settings.PRESENCE_TTL_SECONDS = 60
    settings.PRESENCE_GRACE_SECONDS = 60
    settings.AGENT_ACCESS_RECHECK_SECONDS = 3600
    ani = agent_with_token
    budi = agent_create(
        name="Budi", device=ani.agent.device, division=ani.agent.division, token="sapa_test-budi"
    )
    return ani, budi


def staff_client() -> Client:
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    return client


def login_cookie(token: str) -> bytes:
    client = Client()
    response = client.post(reverse("agents:login"), {"device_number": NUMBER, "token": token})
    assert response.status_code == 302
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_socket(cookie: bytes) -> tuple[WebsocketCommunicator, bool]:
    communicator = WebsocketCommunicator(
        application, "/ws/agent/", headers=[ORIGIN, (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect()
    return communicator, connected


async def eventually(predicate, timeout: float = 10.0) -> bool:
    """Poll a sync predicate off the event loop; a bound for slow machines."""
    check = database_sync_to_async(predicate)
    for _ in range(int(timeout / 0.05)):
        if await check():
            return True
        await asyncio.sleep(0.05)
    return bool(await check())


# --- The ways of revoking access --------------------------------------------------------------


def untick_active_in_the_user_admin(agent: Agent) -> None:
    user = agent.user
    response = staff_client().post(
        reverse("admin:agents_user_change", args=[user.pk]),
        {
            "username": user.username,
            "first_name": user.first_name,
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not User.objects.get(pk=user.pk).is_active


def untick_active_in_the_agent_admin(agent: Agent) -> None:
    response = staff_client().post(
        reverse("admin:agents_agent_change", args=[agent.pk]),
        {"name": agent.name, "device": agent.device_id, "division": agent.division_id},
    )
    assert response.status_code == 302
    assert not Agent.objects.get(pk=agent.pk).is_active


def delete_the_agent_in_the_admin(agent: Agent) -> None:
    response = staff_client().post(
        reverse("admin:agents_agent_delete", args=[agent.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Agent.objects.filter(pk=agent.pk).exists()


def delete_the_user_in_the_admin(agent: Agent) -> None:
    response = staff_client().post(
        reverse("admin:agents_user_delete", args=[agent.user_id]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Agent.objects.filter(pk=agent.pk).exists()


def regenerate_the_token_in_the_admin(agent: Agent) -> None:
    response = staff_client().post(reverse("admin:agents_agent_regenerate_token", args=[agent.pk]))
    assert response.status_code == 200


def deactivate_agents_by_queryset_update(agent: Agent) -> None:
    assert Agent.objects.filter(pk=agent.pk).update(is_active=False) == 1


def deactivate_users_by_queryset_update(agent: Agent) -> None:
    # No signal and no queryset hook sees this one: the socket's own recheck does.
    assert User.objects.filter(pk=agent.user_id).update(is_active=False) == 1


REVOCATIONS = [
    untick_active_in_the_user_admin,
    untick_active_in_the_agent_admin,
    delete_the_agent_in_the_admin,
    delete_the_user_in_the_admin,
    regenerate_the_token_in_the_admin,
    deactivate_agents_by_queryset_update,
    deactivate_users_by_queryset_update,
]


@pytest.mark.parametrize("revoke", REVOCATIONS, ids=lambda f: f.__name__)
async def test_revoking_access_closes_the_socket_and_takes_the_agent_out_of_rotation_and_transfers(
    desk, settings, revoke
):
    ani, budi = desk
    agent = ani.agent
    if revoke is deactivate_users_by_queryset_update:
        settings.AGENT_ACCESS_RECHECK_SECONDS = 0.3
    cookie = await database_sync_to_async(login_cookie)(ani.token)
    budi_cookie = await database_sync_to_async(login_cookie)(budi.token)
    socket, connected = await open_socket(cookie)
    budi_socket, budi_connected = await open_socket(budi_cookie)
    assert connected and budi_connected
    assert await eventually(lambda: presence_state(agent_id=agent.pk) == "online")

    # Budi holds a chat he could hand to Ani a moment ago.
    def budis_chat():
        targets = transfer_targets_for_agent(agent=budi.agent)
        assert agent.pk in [c.agent.pk for c in targets.colleagues]
        return ConversationFactory(
            contact__device=agent.device,
            division=agent.division,
            agent=budi.agent,
            status=Conversation.Status.OPEN,
        )

    chat = await database_sync_to_async(budis_chat)()

    await database_sync_to_async(revoke)(agent)

    assert await socket.receive_output(timeout=10) == {
        "type": "websocket.close",
        "code": CLOSE_SESSION_ENDED,
    }
    # Offline at once (not after the grace period), and nothing brings the key back.
    assert await eventually(lambda: presence_state(agent_id=agent.pk) == "offline")
    await asyncio.sleep(0.5)  # five heartbeats of a socket that would still be refreshing
    assert await database_sync_to_async(presence_state)(agent_id=agent.pk) == "offline"

    def rotation_and_transfers():
        members = {m.id: m for m in division_members(division=agent.division)}
        targets = transfer_targets_for_agent(agent=Agent.objects.get(pk=budi.agent.pk))
        colleagues = {c.agent.pk: c for c in targets.colleagues}
        if revoke is regenerate_the_token_in_the_admin:
            # Still an agent of the division, who must sign in again with the new token: offline
            # at once, so online-only rotation skips them, and a colleague sees them offline.
            assert members[agent.pk].unavailable == SkipReason.OFFLINE
            assert colleagues[agent.pk].presence == "offline"
            return
        assert agent.pk not in members
        assert agent.pk not in colleagues
        if Agent.objects.filter(pk=agent.pk).exists():
            with pytest.raises(ValidationError):
                conversation_transfer(
                    conversation=chat,
                    by_agent=Agent.objects.get(pk=budi.agent.pk),
                    to_agent=Agent.objects.get(pk=agent.pk),
                )
            chat.refresh_from_db()
            assert chat.agent_id == budi.agent.pk

    await database_sync_to_async(rotation_and_transfers)()
    # The old session cannot open a new socket; the colleague's socket is untouched.
    again, reconnected = await open_socket(cookie)
    assert not reconnected
    await again.disconnect()
    assert await budi_socket.receive_nothing(timeout=0.2)
    await budi_socket.disconnect()
    await socket.wait()


# --- Moves: the agent keeps access, the socket must rejoin the right groups -------------------


def move_division_in_the_admin(agent: Agent, division, device) -> None:
    response = staff_client().post(
        reverse("admin:agents_agent_change", args=[agent.pk]),
        {"name": agent.name, "device": agent.device_id, "division": division.pk, "is_active": "on"},
    )
    assert response.status_code == 302


def move_device_in_the_admin(agent: Agent, division, device) -> None:
    response = staff_client().post(
        reverse("admin:agents_agent_change", args=[agent.pk]),
        {"name": agent.name, "device": device.pk, "division": agent.division_id, "is_active": "on"},
    )
    assert response.status_code == 302


def move_division_by_queryset_update(agent: Agent, division, device) -> None:
    Agent.objects.filter(pk=agent.pk).update(division=division)


MOVES = [move_division_in_the_admin, move_device_in_the_admin, move_division_by_queryset_update]


@pytest.mark.parametrize("move", MOVES, ids=lambda f: f.__name__)
async def test_moving_an_agent_makes_their_socket_rejoin_and_leaves_the_old_divisions_pool(
    desk, move
):
    ani, budi = desk
    agent = ani.agent
    old_division = agent.division
    support = await database_sync_to_async(DivisionFactory)(name="Support")
    other_device = await database_sync_to_async(DeviceFactory)(division=old_division)
    socket, connected = await open_socket(await database_sync_to_async(login_cookie)(ani.token))
    assert connected

    await database_sync_to_async(move)(agent, support, other_device)

    assert await socket.receive_output(timeout=10) == {
        "type": "websocket.close",
        "code": CLOSE_RESYNC,
    }

    def pools():
        moved = Agent.objects.get(pk=agent.pk)
        in_old = agent.pk in [m.id for m in division_members(division=old_division)]
        old_colleague_sees = agent.pk in [
            c.agent.pk for c in transfer_targets_for_agent(agent=budi.agent).colleagues
        ]
        # Only a change of division leaves the old division's pool and transfer list.
        stays = moved.division_id == old_division.pk
        assert in_old == stays and old_colleague_sees == stays

    await database_sync_to_async(pools)()
    await socket.wait()
