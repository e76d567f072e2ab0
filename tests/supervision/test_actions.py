"""Supervisor actions: each changes the state, writes its log and pushes (supervision.services)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from agents.presence import presence_state
from agents.services import agent_create
from chats.models import Conversation
from config.asgi import application
from rotation.models import AssignmentLog
from supervision.models import SupervisorAction
from tests.factories import ContactFactory

from .conftest import agent_client, client_for
from .test_socket import ORIGIN, open_board

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fast_board(settings):
    settings.SUPERVISION_BOARD_REFRESH_SECONDS = 3600
    settings.SUPERVISION_BOARD_DEBOUNCE_SECONDS = 0.05


@pytest.fixture
def budi(desk):
    return agent_create(
        name="Budi", device=desk.sales_device, division=desk.sales, token="sapa_test-budi"
    )


def open_chat(desk, agent):
    return Conversation.objects.create(
        contact=ContactFactory(device=desk.sales_device),
        device=desk.sales_device,
        division=desk.sales,
        agent=agent,
        status=Conversation.Status.OPEN,
    )


async def agent_socket(client):
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator = WebsocketCommunicator(
        application, "/ws/agent/", headers=[ORIGIN, (b"cookie", cookie)]
    )
    assert (await communicator.connect())[0]
    return communicator


async def receive_until(communicator, needle: str, *, tries: int = 10) -> str:
    for _ in range(tries):
        frame = await communicator.receive_from(timeout=5)
        if needle in frame:
            return frame
    raise AssertionError(f"{needle!r} never arrived")


async def test_hand_back_all_moves_every_open_chat_logs_and_pushes(desk, budi):
    ani = desk.ani.agent
    chats = [await sync_to_async(open_chat)(desk, ani) for _ in range(2)]
    ani_client = await sync_to_async(agent_client)("6281100000001", desk.ani.token)
    ani_socket = await agent_socket(ani_client)
    board, _ = await open_board(desk.sales_supervisor)

    supervisor = await sync_to_async(client_for)(desk.sales_supervisor)
    url = reverse("supervision:agent_hand_back", args=[ani.pk])
    response = await sync_to_async(supervisor.post)(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f'id="agent-{ani.pk}"' in response.content.decode()

    def state():
        holders = {c.agent_id for c in Conversation.objects.filter(pk__in=[c.pk for c in chats])}
        logs = AssignmentLog.objects.filter(trigger=AssignmentLog.Trigger.HAND_BACK).count()
        action = SupervisorAction.objects.get()
        return holders, logs, action.kind, action.chats_moved, action.actor_id

    holders, logs, kind, moved, actor = await sync_to_async(state)()
    assert holders == {budi.agent.pk}
    assert (logs, kind, moved, actor) == (2, "hand_back_all", 2, desk.sales_supervisor.pk)
    # Ani's workspace drops the chats; the board shows Ani with none and Budi with two.
    await receive_until(ani_socket, f"conversation-{chats[0].pk}")
    pushed = await receive_until(board, 'data-open="2"')
    assert f'id="agent-{ani.pk}"' in pushed and 'data-open="0"' in pushed
    await ani_socket.disconnect()
    await board.disconnect()


async def test_set_away_switches_presence_logs_and_pushes(desk):
    ani = desk.ani.agent
    board, _ = await open_board(desk.sales_supervisor)
    supervisor = await sync_to_async(client_for)(desk.sales_supervisor)
    url = reverse("supervision:agent_away", args=[ani.pk])
    assert (await sync_to_async(supervisor.post)(url, {"away": "1"})).status_code == 302
    assert await sync_to_async(presence_state)(agent_id=ani.pk) == "away"
    await receive_until(board, f'id="agent-{ani.pk}" data-presence="away"')
    assert (await sync_to_async(SupervisorAction.objects.get)()).kind == "set_away"

    assert (await sync_to_async(supervisor.post)(url, {"away": "0"})).status_code == 302
    assert await sync_to_async(presence_state)(agent_id=ani.pk) == "offline"
    await board.disconnect()


async def test_end_sessions_signs_the_agent_out_and_closes_their_socket(desk):
    ani = desk.ani.agent
    ani_client = await sync_to_async(agent_client)("6281100000001", desk.ani.token)
    ani_socket = await agent_socket(ani_client)
    supervisor = await sync_to_async(client_for)(desk.sales_supervisor)
    url = reverse("supervision:agent_end_sessions", args=[ani.pk])
    assert (await sync_to_async(supervisor.post)(url)).status_code == 302

    for _ in range(10):
        output = await ani_socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            break
    assert output == {"type": "websocket.close", "code": 4401}
    inbox = await sync_to_async(ani_client.get)("/inbox")
    assert inbox.status_code == 302 and inbox["Location"].startswith("/login")
    assert (await sync_to_async(SupervisorAction.objects.get)()).kind == "end_sessions"
    # The token still works: ending sessions is not revoking access.
    await sync_to_async(agent_client)("6281100000001", desk.ani.token)


def test_transfer_from_the_read_only_page_within_the_scope_only(desk, budi):
    chat = open_chat(desk, desk.ani.agent)
    supervisor = client_for(desk.sales_supervisor)
    page = supervisor.get(reverse("supervision:conversation", args=[chat.pk]))
    assert page.status_code == 200 and "Rotation log" in page.content.decode()
    assert "Citra" not in page.content.decode()  # not offered as a target

    url = reverse("supervision:transfer", args=[chat.pk])
    refused = supervisor.post(url, {"to_division": desk.support.pk})
    assert refused.status_code == 400
    chat.refresh_from_db()
    assert chat.agent_id == desk.ani.agent.pk

    moved = supervisor.post(url, {"to_agent": budi.agent.pk, "note": "VIP"})
    assert moved.status_code == 302
    chat.refresh_from_db()
    assert chat.agent_id == budi.agent.pk
    log = AssignmentLog.objects.get(conversation=chat, trigger=AssignmentLog.Trigger.TRANSFER)
    assert "by_staff" in log.note
    assert chat.messages.get(direction="note").text == "VIP"


def test_a_supervisor_who_is_also_an_agent_takes_a_chat_over(desk):
    chat = open_chat(desk, desk.ani.agent)
    lead = agent_create(
        name="Lead", device=desk.sales_device, division=desk.sales, token="sapa_test-lead"
    ).agent
    lead.user.is_staff = True
    lead.user.save()
    response = client_for(lead.user).post(reverse("supervision:take_over", args=[chat.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("chats:conversation", args=[chat.pk])
    chat.refresh_from_db()
    assert chat.agent_id == lead.pk
