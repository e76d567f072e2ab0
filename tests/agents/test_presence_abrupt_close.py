"""A browser that leaves while the server is pushing must not stay "online" (no ghost agents).

Real processes: Uvicorn serves the ASGI app in a child process against the test database and
Redis; a real WebSocket client opens the agent socket, the test publishes a burst of pushes to
it, and the client leaves after the first frame — by a TCP reset or by a close frame — while
the server is still rendering and sending the rest. Uvicorn then ends the application with
`ClientDisconnected` from the next send and swallows it, so `websocket.disconnect` is never
dispatched. Presence must end anyway (docs/RELIABILITY.md, "Presence and revocation").
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import reverse
from websockets.sync.client import connect

from agents.presence import presence_state, presence_sweep
from chats.models import Conversation, Message
from chats.services.assignment import division_members
from config.asgi import application
from realtime import publisher as realtime
from rotation.models import SkipReason
from tests.factories import ConversationFactory
from tests.servers import uvicorn_server
from tests.workers import database_url_of_tests

pytestmark = pytest.mark.django_db(transaction=True)

# The burst is far larger than every buffer between the two ends (the client reads one frame and
# stops, its socket has a small receive buffer), so the consumer ends up blocked in a send.
BURST, TEXT_SIZE = 150, 64_000
TTL, HEARTBEAT, GRACE = 2.0, 0.4, 1.0


def wait_for(predicate, timeout: float = 30.0) -> bool:
    """Poll; a bound for slow machines, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


def login_cookie(token: str) -> str:
    client = Client()
    response = client.post(
        reverse("agents:login"), {"device_number": "6281100000001", "token": token}
    )
    assert response.status_code == 302
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.fixture
def server():
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "tests-only-not-secret",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url_of_tests(),
        "REDIS_URL": settings.REDIS_URL,
        "AXES_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "PRESENCE_TTL_SECONDS": str(TTL),
        "PRESENCE_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "PRESENCE_GRACE_SECONDS": str(GRACE),
    }
    with uvicorn_server(env) as (base, log):
        yield base, log


def slow_reader_socket(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: no big window
    sock.connect((host, int(port)))
    return sock


def push_burst(agent) -> int:
    """Publish BURST pushes of one long customer message, all sent before this returns."""
    conversation = ConversationFactory(
        contact__device=agent.device,
        division=agent.division,
        agent=agent,
        status=Conversation.Status.OPEN,
    )
    message = Message.objects.create(
        conversation=conversation,
        device=agent.device,
        direction=Message.Direction.IN,
        text="x" * TEXT_SIZE,
    )
    event = {
        "type": "message.created",
        "conversation_id": conversation.pk,
        "message_id": message.pk,
        "new_chat": False,
    }

    async def burst():
        layer = get_channel_layer()
        for _ in range(BURST):
            await layer.group_send(realtime.agent_group(agent.pk), event)

    asyncio.run(burst())
    return message.pk


def leave_abruptly(ws, how: str) -> None:
    if how == "reset":
        # SO_LINGER 0: close() sends a TCP RST, as a crashed tab or a dropped network does.
        ws.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    else:
        # A close frame in the middle of the burst, then the socket goes: a closed tab.
        ws.protocol.send_close(1001)
        ws.socket.sendall(b"".join(ws.protocol.data_to_send()))
    ws.close_socket()


@pytest.mark.parametrize("how", ["reset", "close_frame"])
def test_an_agent_who_leaves_mid_push_goes_offline_and_rotation_stops_picking_them(
    server, agent_with_token, how
):
    base, log = server
    agent = agent_with_token.agent
    device = agent.device
    assert agent.division.online_only
    with connect(
        base.replace("http://", "ws://") + "/ws/agent/",
        sock=slow_reader_socket(base),
        additional_headers={"Cookie": login_cookie(agent_with_token.token), "Origin": base},
        open_timeout=10,
        max_queue=1,
        max_size=None,
    ) as ws:
        assert wait_for(lambda: presence_state(agent_id=agent.pk) == "online")
        message_id = push_burst(agent)
        # The first frame proves the burst is being pushed. The client reads no more: within a
        # few frames every buffer between the two ends is full and the consumer waits inside a
        # send, the moment the issue describes. Leaving at once would race the server: a reset
        # that lands between two pushes is dispatched as a clean disconnect.
        assert f'id="message-{message_id}"' in ws.recv(timeout=30)
        time.sleep(1.5)
        leave_abruptly(ws, how)

    # Offline once the socket's key has expired (TTL, or the grace after a noticed close)...
    assert wait_for(lambda: presence_state(agent_id=agent.pk) == "offline")
    assert presence_sweep() == {agent.pk: "offline"}
    # ...and it stays so: nothing keeps refreshing a key for a socket that is gone.
    time.sleep(TTL + GRACE + HEARTBEAT)
    assert presence_state(agent_id=agent.pk) == "offline"

    # Online-only rotation no longer offers the chat to them: it waits in the queue.
    [member] = division_members(division=agent.division)
    assert (member.id, member.unavailable) == (agent.pk, SkipReason.OFFLINE)
    from chats.services.assignment import conversation_assign
    from tests.rotation.helpers import new_conversation

    conversation = new_conversation(agent.division, device=device)
    conversation_assign(conversation=conversation, trigger="new_chat")
    conversation.refresh_from_db()
    assert (conversation.status, conversation.agent_id) == (Conversation.Status.QUEUED, None)
    assert "Traceback" not in log.read_text(errors="replace")


# --- In process: a consumer that ends on an error ends its presence too ------------------------


async def test_a_socket_whose_handler_fails_does_not_leave_the_agent_online(
    settings, agent_with_token
):
    settings.PRESENCE_HEARTBEAT_SECONDS = HEARTBEAT
    settings.PRESENCE_TTL_SECONDS = TTL
    settings.PRESENCE_GRACE_SECONDS = GRACE
    agent = agent_with_token.agent
    cookie = (await database_sync_to_async(login_cookie)(agent_with_token.token)).encode()
    socket = WebsocketCommunicator(
        application, "/ws/agent/", headers=[(b"origin", b"http://localhost"), (b"cookie", cookie)]
    )
    connected, _ = await socket.connect()
    assert connected
    state = database_sync_to_async(presence_state)

    async def becomes(expected: str) -> bool:
        for _ in range(400):  # a bound for slow machines, not a timing assertion
            if await state(agent_id=agent.pk) == expected:
                return True
            await asyncio.sleep(0.05)
        return False

    assert await becomes("online")
    # An event no handler knows makes Channels raise inside the consumer: the application ends
    # with an error, and websocket.disconnect is never dispatched.
    await get_channel_layer().group_send(realtime.agent_group(agent.pk), {"type": "no.such.event"})
    with pytest.raises(ValueError, match="No handler"):
        await socket.wait(timeout=10)
    assert await becomes("offline")
    await asyncio.sleep(TTL + GRACE)
    assert await state(agent_id=agent.pk) == "offline"
