"""A customer's message through ApiWago / wonotify reaches an agent, and the agent's reply
reaches that gateway with its own fields; the gateway's receipts then move the reply forward.
Real HTTP: the webhook through Sapa's URL, the send against a local server speaking the
gateway's protocol (tests/apiwago_server.py, tests/wonotify_server.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.utils.translation import override

from chats.models import Conversation, Message
from chats.services.outbound import (
    message_poll_create,
    message_reason_display,
    message_reply_create,
    message_send_attempt,
)
from devices_app.models import Device
from templates_app.services import poll_spec_build
from tests.apiwago_server import apiwago_fixture, not_registered  # noqa: F401
from tests.wonotify_server import ACCESS_TOKEN, wonotify_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

S = Message.Status
FIXTURES = Path(__file__).parents[1] / "fixtures"
TOKEN = "sapa-device-1"
INSTANCE = "609ACF283XXXX"


@pytest.fixture(autouse=True)
def _no_pacing(settings):
    settings.SEND_RATE_PER_DEVICE = 0


def _webhook(client, device: Device, gateway: str, name: str, **overrides):
    body = json.loads((FIXTURES / gateway / f"{name}.json").read_text())
    body.update(overrides)
    response = client.post(
        f"/hooks/{device.gateway}/{device.webhook_key}/incoming",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response


def _assigned(device: Device) -> tuple[Conversation, object]:
    conversation = Conversation.objects.select_related("agent").get(device=device)
    assert conversation.agent is not None
    return conversation, conversation.agent


@pytest.fixture
def apiwago_device(fonnte_device, sales_agents, apiwago):
    Device.objects.filter(pk=fonnte_device.pk).update(
        gateway=Device.Gateway.APIWAGO, gateway_token=TOKEN
    )
    fonnte_device.refresh_from_db()
    apiwago.scan(TOKEN)
    return fonnte_device


@pytest.fixture
def wonotify_device(fonnte_device, sales_agents, wonotify, settings):
    Device.objects.filter(pk=fonnte_device.pk).update(
        gateway=Device.Gateway.WONOTIFY, gateway_token=ACCESS_TOKEN, gateway_instance=INSTANCE
    )
    fonnte_device.refresh_from_db()
    wonotify.add_instance(INSTANCE, logged_in=True)
    return fonnte_device


def test_apiwago_reply_reaches_the_gateway_and_its_receipts_tick(client, apiwago, apiwago_device):
    _webhook(client, apiwago_device, "apiwago", "message_private_text")
    conversation, agent = _assigned(apiwago_device)

    reply = message_reply_create(conversation=conversation, agent=agent, text="Masih, kak!")
    message_send_attempt(message_id=reply.pk)

    reply.refresh_from_db()
    assert reply.status == S.SENT
    [request] = apiwago.sent()
    assert request.headers["apikey"] == apiwago.api_key
    assert request.json == {"token": TOKEN, "phone": "6282100000002", "message": "Masih, kak!"}
    assert reply.gateway_message_id.startswith("3EB0")

    _webhook(client, apiwago_device, "apiwago", "receipt_delivered", ids=[reply.gateway_message_id])
    reply.refresh_from_db()
    assert reply.status == S.DELIVERED
    _webhook(
        client, apiwago_device, "apiwago", "receipt_read_two_ids", ids=[reply.gateway_message_id]
    )
    reply.refresh_from_db()
    assert reply.status == S.READ


def test_apiwago_poll_reply(client, apiwago, apiwago_device):
    _webhook(client, apiwago_device, "apiwago", "message_private_text")
    conversation, agent = _assigned(apiwago_device)
    spec = poll_spec_build(question="Kirim kapan?", choices=["Pagi", "Sore"], multiple=False)

    poll = message_poll_create(conversation=conversation, agent=agent, poll=spec)
    message_send_attempt(message_id=poll.pk)

    poll.refresh_from_db()
    assert poll.status == S.SENT
    [request] = apiwago.sent("/api/send-poll")
    assert request.json["options"] == {
        "name": "Kirim kapan?",
        "options": ["Pagi", "Sore"],
        "selectableCount": 1,
    }


def test_apiwago_number_not_on_whatsapp_fails_with_the_reason_in_words(
    client, apiwago, apiwago_device
):
    _webhook(client, apiwago_device, "apiwago", "message_private_text")
    conversation, agent = _assigned(apiwago_device)
    apiwago.respond(not_registered)

    reply = message_reply_create(conversation=conversation, agent=agent, text="Halo")
    message_send_attempt(message_id=reply.pk)

    reply.refresh_from_db()
    assert reply.status == S.FAILED
    assert message_reason_display(message=reply) == "The number is not on WhatsApp."
    with override("id"):
        assert message_reason_display(message=reply) == "Nomor ini tidak terdaftar di WhatsApp."
    assert len(apiwago.sent()) == 1  # refused for good: never repeated


def test_wonotify_group_reply_goes_through_send_group(client, wonotify, wonotify_device):
    _webhook(client, wonotify_device, "wonotify", "waziper_upsert_group_image")
    conversation, agent = _assigned(wonotify_device)

    reply = message_reply_create(conversation=conversation, agent=agent, text="Siap, grup!")
    message_send_attempt(message_id=reply.pk)

    reply.refresh_from_db()
    assert reply.status == S.SENT
    [request] = wonotify.made("send_group")
    assert request.json["group_id"] == "120363400800000001@g.us"
    assert request.json["message"] == "Siap, grup!"
    assert request.json["instance_id"] == INSTANCE
    assert request.json["access_token"] == ACCESS_TOKEN

    update = {
        "instance_id": INSTANCE,
        "data": {
            "event": "messages.update",
            "data": [
                {
                    "key": {
                        "remoteJid": "120363400800000001@g.us",
                        "fromMe": True,
                        "id": reply.gateway_message_id,
                    },
                    "update": {"status": 4},
                }
            ],
        },
    }
    response = client.post(
        f"/hooks/wonotify/{wonotify_device.webhook_key}/incoming",
        data=json.dumps(update),
        content_type="application/json",
    )
    assert response.status_code == 200
    reply.refresh_from_db()
    assert reply.status == S.READ
