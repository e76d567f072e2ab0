from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db.models import Count

from chats.models import Contact, Conversation, Message
from rotation.models import AssignmentLog
from tests.fonnte import fixture, hook_url

pytestmark = pytest.mark.django_db(transaction=True)

CONTACTS = 40
PER_CONTACT = 5


def bodies() -> list[dict]:
    return [
        fixture(
            "incoming_with_inboxid_and_timestamp",
            sender=f"62821000{c:05d}",
            pengirim=f"62821000{c:05d}",
            name=f"Customer {c}",
            message=f"message {m} from {c}",
            inboxid=100_000 + c * PER_CONTACT + m,
        )
        for m in range(PER_CONTACT)
        for c in range(CONTACTS)
    ]


def test_200_webhooks_from_8_threads_store_200_messages_assigned_once_per_chat(
    live_server, fonnte_device, sales_agents
):
    url = live_server.url + hook_url(fonnte_device, "incoming")
    payloads = bodies()
    # Every fifth body is delivered twice, concurrently: Fonnte's retry racing the original.
    payloads += payloads[::5]

    def deliver(chunk: list[dict]) -> list[int]:
        with httpx.Client(timeout=30) as client:
            return [client.post(url, content=json.dumps(body)).status_code for body in chunk]

    chunks = [payloads[i::8] for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [status for result in pool.map(deliver, chunks) for status in result]

    assert statuses == [200] * len(payloads)
    assert Message.objects.count() == CONTACTS * PER_CONTACT
    assert Contact.objects.count() == CONTACTS
    assert Conversation.objects.count() == CONTACTS  # one episode per contact, no race doubles
    agents = {a.agent.pk for a in sales_agents}
    for conversation in Conversation.objects.annotate(n=Count("messages")):
        assert conversation.n == PER_CONTACT
        assert conversation.unread_count == PER_CONTACT
        # Rotation ran exactly once per new chat, and chose a member of the division.
        assert conversation.agent_id in agents
        logs = AssignmentLog.objects.filter(conversation=conversation)
        assert logs.count() == 1 and logs.get().agent_id == conversation.agent_id
