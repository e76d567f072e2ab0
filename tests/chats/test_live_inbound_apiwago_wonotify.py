"""ApiWago and wonotify webhooks end to end over the real Redis channel layer: the message
reaches the assigned agent's socket, once, however often the gateway posts it."""

from __future__ import annotations

from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from chats.models import Conversation, Message
from devices_app.models import Device
from tests.chats.test_live_inbound import QUIET, open_socket

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).parents[1] / "fixtures"

GATEWAYS = {
    "apiwago": (
        {"gateway": Device.Gateway.APIWAGO, "gateway_token": "sapa-device-1"},
        "message_private_text",
        "Halo, stok masih ada?",
    ),
    "wonotify": (
        {
            "gateway": Device.Gateway.WONOTIFY,
            "gateway_token": "6881c11f741a1",
            "gateway_instance": "609ACF283XXXX",
        },
        "waziper_upsert_text",
        "Halo kak, masih buka?",
    ),
}


def _post(device: Device, gateway: str, name: str) -> int:
    body = (FIXTURES / gateway / f"{name}.json").read_text()
    response = Client().post(
        f"/hooks/{gateway}/{device.webhook_key}/incoming",
        body,
        content_type="application/json",
    )
    return response.status_code


@pytest.mark.parametrize("gateway", list(GATEWAYS))
async def test_a_message_reaches_the_assigned_agent_live_once(gateway, fonnte_device, sales_agents):
    fields, fixture_name, text = GATEWAYS[gateway]
    await sync_to_async(Device.objects.filter(pk=fonnte_device.pk).update)(**fields)
    device = await sync_to_async(Device.objects.get)(pk=fonnte_device.pk)
    sockets = {a.agent.pk: await open_socket(a) for a in sales_agents}

    assert await sync_to_async(_post)(device, gateway, fixture_name) == 200
    conversation = await sync_to_async(Conversation.objects.get)()
    message = await sync_to_async(Message.objects.get)()
    frame = await sockets[conversation.agent_id].receive_from(timeout=5)
    assert f'id="message-{message.pk}"' in frame
    assert text in frame

    # The gateway posts it again: nothing new is stored or pushed.
    assert await sync_to_async(_post)(device, gateway, fixture_name) == 200
    assert await sync_to_async(Message.objects.count)() == 1
    for socket in sockets.values():
        assert await socket.receive_nothing(timeout=QUIET)
        await socket.disconnect()
