"""A status webhook that arrives before Sapa has recorded the gateway id of its message (the
gateway calls the webhook while its answer to /send is still on the way) is kept and applied
when the id arrives, and so is the stateid-only "read" that follows it (docs/ARCHITECTURE.md,
"Fonnte's protocol").

The gateway here is a real HTTP server speaking Fonnte's /send; before answering it posts the
status webhooks to Sapa's real webhook URL from its own thread (its own database connection).
"""

from __future__ import annotations

import json

import pytest
from django.db import close_old_connections, connections
from django.test import Client

from chats.models import EarlyStatusUpdate, Message
from chats.services.outbound import message_reply_create, message_send_attempt
from tests.fonnte import hook_url
from tests.gateway_server import FonnteGateway, gateway_fixture  # noqa: F401
from tests.workers import assigned_conversation

pytestmark = pytest.mark.django_db(transaction=True)

GATEWAY_ID = "99000001"
STATE_ID = "state-7"


@pytest.fixture(autouse=True)
def _no_pacing(settings):
    settings.SEND_RATE_PER_DEVICE = 0


def _webhook(device, body: dict) -> int:
    response = Client().post(
        hook_url(device, "status"), json.dumps(body), content_type="application/json"
    )
    return response.status_code


def test_status_and_read_that_beat_the_send_answer_are_applied(gateway: FonnteGateway):
    conversation = assigned_conversation()
    device = conversation.device
    answers: list[int] = []

    def report_then_answer(request, number):
        try:
            answers.append(
                _webhook(device, {"id": GATEWAY_ID, "stateid": STATE_ID, "status": "sent"})
            )
            answers.append(_webhook(device, {"stateid": STATE_ID, "state": "read"}))
        finally:
            connections.close_all()  # this thread's connection, before the test database goes
        from werkzeug import Response

        return Response(
            json.dumps({"status": True, "id": [GATEWAY_ID], "detail": "success! message in queue"}),
            content_type="application/json",
        )

    gateway.respond(report_then_answer)
    message = message_reply_create(conversation=conversation, agent=conversation.agent, text="Hi")
    message_send_attempt(message_id=message.pk)
    close_old_connections()

    assert answers == [200, 200]
    message.refresh_from_db()
    assert message.gateway_message_id == GATEWAY_ID
    assert message.gateway_state_id == STATE_ID
    assert message.status == Message.Status.READ
    assert message.read_at is not None
    assert not EarlyStatusUpdate.objects.exists()


def test_an_update_for_an_id_nobody_knows_is_kept_not_applied(gateway: FonnteGateway):
    conversation = assigned_conversation()
    assert _webhook(conversation.device, {"id": "unknown-1", "status": "sent"}) == 200
    kept = EarlyStatusUpdate.objects.get()
    assert (kept.message_id, kept.status, kept.device_id) == (
        "unknown-1",
        "sent",
        conversation.device_id,
    )
    # A retry of the same update keeps a second copy harmlessly: applying is forward-only.
    assert not Message.objects.filter(status=Message.Status.SENT).exists()
