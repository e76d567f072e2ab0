"""The webhook ingest path's query budget (bench/ingest.py measures what it costs).

Every statement of `message_receive` runs on every incoming WhatsApp message, so a query added
by accident shows here before it shows as a lower saturation rate. The bounds are what the
service needs today (SQLite counts BEGIN/SAVEPOINT statements too; PostgreSQL counts fewer).
"""

from __future__ import annotations

import pytest

from chats.models import Contact, Conversation, Message
from chats.services.inbound import message_receive
from devices_app.gateways.fonnte import webhooks as fonnte
from rotation.models import AssignmentLog
from tests.fonnte import fixture

pytestmark = pytest.mark.django_db

# A new contact's first message: contact, episode, message, rotation pick and its log,
# assignment, counters.
NEW_CHAT_MAX_QUERIES = 21
# A known contact's next message in their open episode.
APPEND_MAX_QUERIES = 11


def _event(sender: str, inbox_id: int, name: str = "Rama"):
    return fonnte.parse_incoming(
        fixture("incoming_private_captured", sender=sender, pengirim=sender, inboxid=inbox_id)
        | {"name": name}
    )


def test_a_new_contacts_first_message_stays_within_its_query_budget(
    fonnte_device, sales_agents, django_assert_max_num_queries
):
    # The division's first pick ever also creates its rotation state row: not counted.
    message_receive(device=fonnte_device, event=_event("6282100000100", 100))

    with django_assert_max_num_queries(NEW_CHAT_MAX_QUERIES):
        message = message_receive(device=fonnte_device, event=_event("6282100000101", 101))

    conversation = Conversation.objects.get(contact__address="6282100000101")
    assert message.conversation_id == conversation.pk
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.agent_id in {a.agent.pk for a in sales_agents}
    assert conversation.unread_count == 1
    assert conversation.last_message_preview == "Halo"
    # The object the service returns agrees with the row (no re-read needed after assigning).
    assert message.conversation.agent_id == conversation.agent_id
    assert message.conversation.assigned_at == conversation.assigned_at
    log = AssignmentLog.objects.get(conversation=conversation)
    assert log.trigger == AssignmentLog.Trigger.NEW_CHAT
    assert log.agent_id == conversation.agent_id


def test_a_known_contacts_next_message_stays_within_its_query_budget(
    fonnte_device, sales_agents, django_assert_max_num_queries
):
    first = message_receive(device=fonnte_device, event=_event("6282100000102", 201))

    with django_assert_max_num_queries(APPEND_MAX_QUERIES):
        second = message_receive(
            device=fonnte_device, event=_event("6282100000102", 202, name="Rama S.")
        )

    assert second.conversation_id == first.conversation_id
    assert Message.objects.count() == 2
    assert Conversation.objects.get().unread_count == 2
    assert Contact.objects.get().name == "Rama S."
    assert AssignmentLog.objects.count() == 1


def test_a_retried_webhook_answers_from_one_read(
    fonnte_device, sales_agents, django_assert_max_num_queries
):
    first = message_receive(device=fonnte_device, event=_event("6282100000103", 301))

    with django_assert_max_num_queries(1):
        again = message_receive(device=fonnte_device, event=_event("6282100000103", 301))

    assert again.pk == first.pk
    assert Message.objects.count() == 1


def test_a_returning_contacts_new_episode_still_goes_back_to_their_agent(
    fonnte_device, sales_agents
):
    first = message_receive(device=fonnte_device, event=_event("6282100000104", 401))
    Conversation.objects.filter(pk=first.conversation_id).update(
        status=Conversation.Status.RESOLVED
    )

    again = message_receive(device=fonnte_device, event=_event("6282100000104", 402))

    assert again.conversation_id != first.conversation_id
    assert again.conversation.agent_id == first.conversation.agent_id
    log = AssignmentLog.objects.get(conversation_id=again.conversation_id)
    assert log.trigger == AssignmentLog.Trigger.RETURNING
