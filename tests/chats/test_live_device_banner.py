"""A device's disconnect reaches everyone who has chats on it, not only the agents who log in
with it: colleagues of its division who work from another number, and an agent of another
division holding one of its chats (real Redis channel layer, webhook → commit → sockets)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from agents.services import agent_create
from chats.models import Conversation
from tests.chats.test_live_inbound import QUIET, login_cookie, open_socket, webhook
from tests.factories import ContactFactory, ConversationFactory, DeviceFactory, DivisionFactory
from tests.fonnte import fixture

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(fonnte_device, sales_agents):
    """Sales answers for the captured-fixture device; Eko (Sales) logs in with a second Sales
    number; Citra (Support) holds one of the device's chats after a transfer; Dodi (Support)
    has nothing on it."""
    second = DeviceFactory(number="6287700000002", division=fonnte_device.division)
    eko = agent_create(
        name="Eko", device=second, division=second.division, token="sapa_test-token-eko"
    )
    support = DivisionFactory(name="Support", online_only=False)
    support_device = DeviceFactory(number="6287700000009", division=support)
    citra, dodi = (
        agent_create(
            name=name,
            device=support_device,
            division=support,
            token=f"sapa_test-token-{name.lower()}",
        )
        for name in ("Citra", "Dodi")
    )
    contact = ContactFactory(device=fonnte_device, address="6282100000002", name="Rama")
    transferred = ConversationFactory(
        contact=contact, division=support, agent=citra.agent, status=Conversation.Status.OPEN
    )
    return {"eko": eko, "citra": citra, "dodi": dodi, "transferred": transferred}


async def test_a_disconnect_reaches_everyone_with_chats_on_the_device(
    fonnte_device, sales_agents, desk
):
    concerned = [*sales_agents, desk["eko"], desk["citra"]]
    sockets = [await open_socket(each) for each in concerned]
    outsider = await open_socket(desk["dodi"])

    await sync_to_async(webhook)(fonnte_device, "connect", fixture("connect_disconnect"))
    for socket in sockets:
        frame = await socket.receive_from(timeout=5)
        assert f'id="device-{fonnte_device.pk}-banner"' in frame
        assert "logged out from phone" in frame
        assert 'hx-swap-oob="beforeend:#device-banners"' in frame
        assert f'id="thread-device-{fonnte_device.pk}"' in frame
        # One frame per socket, though Ani's socket is in three of the groups told.
        assert await socket.receive_nothing(timeout=QUIET)
    assert await outsider.receive_nothing(timeout=QUIET)

    await sync_to_async(webhook)(fonnte_device, "connect", fixture("connect_connect"))
    frame = await sockets[2].receive_from(timeout=5)  # Eko
    assert 'data-status="connected"' in frame and "device-banner" not in frame.split("slot", 1)[1]
    for socket in [*sockets, outsider]:
        await socket.disconnect()


def logged_in(agent_with_token) -> Client:
    client = Client()
    client.cookies.load(
        {
            "sessionid": login_cookie(agent_with_token.agent.device.number, agent_with_token.token)
            .decode()
            .split("=", 1)[1]
        }
    )
    return client


def test_the_page_shows_the_banner_and_the_thread_header_says_so(fonnte_device, desk):
    fonnte_device.status = "disconnected"
    fonnte_device.status_reason = "phone offline"
    fonnte_device.save()
    inbox = logged_in(desk["eko"]).get(reverse("chats:inbox")).content.decode()
    assert f'id="device-{fonnte_device.pk}-banner"' in inbox and "phone offline" in inbox
    assert "{#" not in inbox, "template comments stay comments"

    citra = logged_in(desk["citra"])
    thread = citra.get(
        reverse("chats:conversation", args=[desk["transferred"].pk])
    ).content.decode()
    assert "phone offline" in thread
    assert "disconnected: replies wait" in thread.split(f'id="thread-device-{fonnte_device.pk}"')[1]
    # The resync endpoint serves the same banners.
    banners = citra.get(reverse("chats:device_banners")).content.decode()
    assert f'id="device-{fonnte_device.pk}-banner"' in banners

    # An agent with nothing on the device is not bothered with it.
    dodi = logged_in(desk["dodi"]).get(reverse("chats:inbox")).content.decode()
    assert f'id="device-{fonnte_device.pk}-banner"' not in dodi
