"""Internal notes: stored as NOTE messages, pushed like messages, never sent to the customer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections
from django.utils import timezone

from chats.models import Conversation, Message
from chats.services.notes import note_create
from chats.services.outbound import message_reply_create, messages_sweep_stuck
from realtime import publisher as realtime
from tests.factories import ContactFactory, ConversationFactory
from tests.gateway_server import FonnteGateway, gateway_fixture  # noqa: F401
from tests.workers import assigned_conversation, thread_worker, wait_until

from .tools_support import agent_in, division, events_during, open_chat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(settings):
    settings.SEND_RATE_PER_DEVICE = 0
    with thread_worker() as running:
        yield running
    close_old_connections()


def test_a_note_is_stored_and_pushed_like_a_message():
    sales = division()
    ani = agent_in(sales)
    chat = open_chat(ani)
    Conversation.objects.filter(pk=chat.pk).update(last_message_preview="Mau tanya harga")

    note, events = events_during(
        lambda: note_create(conversation=chat, agent=ani, text="  Sudah transfer, cek mutasi  "),
        expect={realtime.agent_group(ani.pk): 1},
    )

    assert (note.direction, note.text, note.sender_agent_id) == (
        Message.Direction.NOTE,
        "Sudah transfer, cek mutasi",
        ani.pk,
    )
    assert events[realtime.agent_group(ani.pk)] == [
        {
            "type": "message.created",
            "conversation_id": chat.pk,
            "message_id": note.pk,
            "new_chat": False,
        }
    ]
    chat.refresh_from_db()
    # The inbox preview is what the customer sees; a note is not part of it.
    assert chat.last_message_preview == "Mau tanya harga"
    assert chat.unread_count == 0


def test_a_note_never_reaches_the_gateway(gateway: FonnteGateway, worker):
    chat = assigned_conversation()
    note = note_create(conversation=chat, agent=chat.agent, text="Pelanggan VIP")
    # A reply after the note: once the gateway has it, the worker has had every chance to
    # send the note too.
    reply = message_reply_create(conversation=chat, agent=chat.agent, text="Halo")
    wait_until(
        lambda: Message.objects.filter(pk=reply.pk, status=Message.Status.SENT).exists(),
        what="the reply sent",
    )
    assert [r.json.get("message") for r in gateway.requests] == ["Halo"]
    # Nor will the sweep ever pick it up.
    assert messages_sweep_stuck(now=timezone.now() + timedelta(days=1)) == {
        "unconfirmed": 0,
        "requeued": 0,
    }
    note.refresh_from_db()
    assert note.send_attempts == 0
    assert note.gateway_message_id == ""


def test_colleagues_may_note_a_chat_waiting_in_their_queue_but_not_anothers_chat():
    sales = division()
    ani, budi = agent_in(sales), agent_in(sales)
    queued = ConversationFactory(
        contact=ContactFactory(device=ani.device),
        division=sales,
        status=Conversation.Status.QUEUED,
    )
    assert note_create(conversation=queued, agent=budi, text="Saya ambil nanti").pk

    chat = open_chat(ani)
    with pytest.raises(ValidationError) as error:
        note_create(conversation=chat, agent=budi, text="Boleh saya bantu?")
    assert error.value.code == "not_assigned"

    other_division_agent = agent_in(division())
    with pytest.raises(ValidationError) as error:
        note_create(conversation=queued, agent=other_division_agent, text="Hm")
    assert error.value.code == "not_assigned"


@pytest.mark.parametrize(("text", "code"), [("   ", "empty"), ("x" * 10_001, "too_long")])
def test_an_empty_or_huge_note_is_refused(text, code):
    ani = agent_in(division())
    chat = open_chat(ani)
    with pytest.raises(ValidationError) as error:
        note_create(conversation=chat, agent=ani, text=text)
    assert error.value.code == code
    assert not Message.objects.exists()
