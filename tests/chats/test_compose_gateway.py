"""End to end through the reply box: a quote-reply posted to the view leaves through the real
send task and reaches a local Fonnte-protocol server with `inboxid` (docs/ARCHITECTURE.md,
"Fonnte's protocol"), and a
note posted the same way never does."""

from __future__ import annotations

import pytest
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from agents.services import agent_create
from chats.models import Message
from tests.gateway_server import FonnteGateway, gateway_fixture  # noqa: F401
from tests.workers import assigned_conversation, inbound, thread_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(settings):
    settings.SEND_RATE_PER_DEVICE = 0
    with thread_worker() as running:
        yield running
    close_old_connections()


def test_a_quote_reply_from_the_box_reaches_the_gateway_with_inboxid(
    gateway: FonnteGateway, worker
):
    conversation = assigned_conversation()
    agent = conversation.agent
    made = agent_create(
        name="Ani", device=agent.device, division=agent.division, token="sapa_test-token-quote"
    )
    conversation.agent = made.agent
    conversation.save(update_fields=["agent"])
    question = inbound(conversation, inbox_id=98765, text="Masih ada stok?")
    client = Client()
    client.post(
        reverse("agents:login"), {"device_number": agent.device.number, "token": made.token}
    )

    note = client.post(
        reverse("chats:conversation_send", args=[conversation.pk]),
        {"mode": "note", "text": "Cek gudang dulu"},
        headers={"HX-Request": "true"},
    )
    assert note.status_code == 200
    response = client.post(
        reverse("chats:conversation_send", args=[conversation.pk]),
        {"mode": "reply", "text": "Masih, kak", "quoted": str(question.pk)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    reply = Message.objects.get(direction=Message.Direction.OUT)
    wait_until(
        lambda: Message.objects.filter(pk=reply.pk, status=Message.Status.SENT).exists(),
        what="the quote-reply sent",
    )
    # Only the reply: the note never reached the gateway.
    [request] = gateway.requests
    assert request.json == {
        "target": "6281234567890",
        "message": "Masih, kak",
        "countryCode": "0",
        "inboxid": 98765,
    }
