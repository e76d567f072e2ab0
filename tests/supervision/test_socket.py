"""The supervisors' socket: the board arrives live, and only the supervisor's divisions."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from agents.presence import new_connection_id, presence_connect
from config.asgi import application
from devices_app.models import Device
from supervision.consumers import SupervisorConsumer  # noqa: F401  (the routed consumer)
from tests.factories import StaffFactory

from .conftest import agent_client

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")


@pytest.fixture(autouse=True)
def _fast_board(settings):
    # No periodic renders during a test: what arrives, arrives because of an event.
    settings.SUPERVISION_BOARD_REFRESH_SECONDS = 3600
    settings.SUPERVISION_BOARD_DEBOUNCE_SECONDS = 0.05


def cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_board(user):
    cookie = await sync_to_async(cookie_for)(user)
    communicator = WebsocketCommunicator(
        application, "/ws/staff/?board=1", headers=[ORIGIN, (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect()
    assert connected
    first = await communicator.receive_from(timeout=5)  # the board as it is: the resync
    assert 'id="board"' in first
    return communicator, first


async def test_agents_and_anonymous_cannot_open_the_staff_socket(desk):
    anonymous = WebsocketCommunicator(application, "/ws/staff/", headers=[ORIGIN])
    assert not (await anonymous.connect())[0]
    agent = await sync_to_async(agent_client)("6281100000001", desk.ani.token)
    cookie = f"sessionid={agent.cookies['sessionid'].value}".encode()
    agent_socket = WebsocketCommunicator(
        application, "/ws/staff/?board=1", headers=[ORIGIN, (b"cookie", cookie)]
    )
    assert not (await agent_socket.connect())[0]


async def test_presence_reaches_only_the_supervisors_of_the_agents_division(desk):
    sales, sales_first = await open_board(desk.sales_supervisor)
    support, support_first = await open_board(desk.support_supervisor)
    citra = desk.citra.agent.pk
    assert "Citra" not in sales_first
    assert f'id="agent-{citra}" data-presence="offline"' in support_first

    await sync_to_async(presence_connect)(agent_id=citra, conn=new_connection_id())

    pushed = await support.receive_from(timeout=5)
    assert f'id="agent-{citra}" data-presence="online"' in pushed
    assert await sales.receive_nothing(timeout=0.5)
    await sales.disconnect()
    await support.disconnect()


async def test_a_disconnected_device_alerts_its_supervisors_only(desk):
    from realtime import publisher as realtime

    sales, _ = await open_board(desk.sales_supervisor)
    boss, _ = await open_board(desk.superuser)
    device = desk.support_device

    def disconnect():
        Device.objects.filter(pk=device.pk).update(status=Device.Status.DISCONNECTED)
        realtime.device_status_changed_on_commit(device_id=device.pk, status="disconnected")

    await sync_to_async(disconnect)()
    pushed = await boss.receive_from(timeout=5)
    assert 'class="alert alert-error board-alert"' in pushed
    assert "Support phone" in pushed and 'data-status="disconnected"' in pushed
    assert await sales.receive_nothing(timeout=0.5)
    await sales.disconnect()
    await boss.disconnect()


async def test_a_staff_user_who_loses_staff_status_is_closed_at_the_next_render(desk):
    lead = await sync_to_async(StaffFactory)()
    board, _ = await open_board(lead)

    def demote_and_nudge():
        type(lead).objects.filter(pk=lead.pk).update(is_staff=False)
        presence_connect(agent_id=desk.ani.agent.pk, conn=new_connection_id())

    await sync_to_async(demote_and_nudge)()
    closed = await board.receive_output(timeout=5)
    assert closed["type"] == "websocket.close" and closed["code"] == 4403
    await board.disconnect()


async def test_the_device_console_socket_gets_status_cards_of_its_divisions_only(desk):
    from realtime import publisher as realtime

    cookie = await sync_to_async(cookie_for)(desk.sales_supervisor)
    console = WebsocketCommunicator(
        application, "/ws/staff/", headers=[ORIGIN, (b"cookie", cookie)]
    )
    assert (await console.connect())[0]
    assert await console.receive_nothing(timeout=0.3)  # no board on the console's socket

    def drop(device):
        Device.objects.filter(pk=device.pk).update(status=Device.Status.DISCONNECTED)
        realtime.device_status_changed_on_commit(device_id=device.pk, status="disconnected")

    await sync_to_async(drop)(desk.support_device)
    assert await console.receive_nothing(timeout=0.5)
    await sync_to_async(drop)(desk.sales_device)
    card = await console.receive_from(timeout=5)
    assert f"device-{desk.sales_device.pk}-status" in card and 'id="board"' not in card
    await console.disconnect()
