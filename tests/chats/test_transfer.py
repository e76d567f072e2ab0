"""Transfer and hand back: who may move a chat, where it goes, what the log says, and who hears
about it over the real Redis channel layer."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from chats.models import Conversation, Message
from chats.services.transfer import (
    conversation_hand_back,
    conversation_transfer,
    conversation_transfer_by_user,
)
from realtime import publisher as realtime
from rotation.models import AssignmentLog, SkipReason
from tests.factories import ContactFactory, ConversationFactory, StaffFactory, UserFactory

from .tools_support import agent_in, division, events_during, open_chat

pytestmark = pytest.mark.django_db(transaction=True)

Trigger = AssignmentLog.Trigger


def test_transfer_to_an_agent_of_another_division_moves_the_chat_and_tells_both():
    sales, support = division(name="Sales"), division(name="Support")
    ani, citra = agent_in(sales, name="Ani"), agent_in(support, name="Citra")
    chat = open_chat(ani)

    new_agent, events = events_during(
        lambda: conversation_transfer(
            conversation=chat, by_agent=ani, to_agent=citra, note="Minta refund, sudah dicek."
        ),
        expect={realtime.agent_group(ani.pk): 1, realtime.agent_group(citra.pk): 2},
    )

    assert new_agent == citra
    chat.refresh_from_db()
    assert (chat.agent_id, chat.division_id, chat.status) == (
        citra.pk,
        support.pk,
        Conversation.Status.OPEN,
    )
    note = Message.objects.get(conversation=chat)
    assert (note.direction, note.text, note.sender_agent_id) == (
        Message.Direction.NOTE,
        "Minta refund, sudah dicek.",
        ani.pk,
    )
    log = AssignmentLog.objects.get(conversation=chat)
    assert (log.trigger, log.agent_id, log.note) == (Trigger.TRANSFER, citra.pk, "direct_transfer")

    assert events[realtime.agent_group(ani.pk)] == [
        {"type": "conversation.removed", "conversation_id": chat.pk}
    ]
    assert events[realtime.agent_group(citra.pk)] == [
        {"type": "conversation.assigned", "conversation_id": chat.pk, "agent_id": citra.pk},
        {
            "type": "message.created",
            "conversation_id": chat.pk,
            "message_id": note.pk,
            "new_chat": False,
        },
    ]


def test_transfer_to_a_division_goes_through_its_rotation():
    sales, support = division(name="Sales"), division(name="Support")
    ani, dewi = agent_in(sales), agent_in(support)
    chat = open_chat(ani)

    new_agent, events = events_during(
        lambda: conversation_transfer(conversation=chat, by_agent=ani, to_division=support),
        expect={realtime.agent_group(ani.pk): 1, realtime.agent_group(dewi.pk): 1},
    )

    assert new_agent == dewi
    chat.refresh_from_db()
    assert (chat.agent_id, chat.division_id) == (dewi.pk, support.pk)
    log = AssignmentLog.objects.get(conversation=chat)
    assert (log.trigger, log.agent_id, log.pool) == (
        Trigger.TRANSFER,
        dewi.pk,
        f"division:{support.pk}",
    )
    assert events[realtime.agent_group(ani.pk)] == [
        {"type": "conversation.removed", "conversation_id": chat.pk}
    ]
    assert events[realtime.agent_group(dewi.pk)] == [
        {"type": "conversation.assigned", "conversation_id": chat.pk, "agent_id": dewi.pk}
    ]


def test_transfer_to_a_division_with_nobody_eligible_waits_in_its_queue():
    sales, support = division(name="Sales"), division(name="Support")
    ani = agent_in(sales)
    chat = open_chat(ani)

    new_agent, events = events_during(
        lambda: conversation_transfer(conversation=chat, by_agent=ani, to_division=support),
        expect={
            realtime.agent_group(ani.pk): 1,
            realtime.division_queue_group(support.pk): 1,
        },
    )

    assert new_agent is None
    chat.refresh_from_db()
    assert (chat.agent_id, chat.division_id, chat.status) == (
        None,
        support.pk,
        Conversation.Status.QUEUED,
    )
    assert events[realtime.division_queue_group(support.pk)] == [
        {"type": "conversation.queued", "conversation_id": chat.pk, "division_id": support.pk}
    ]
    assert events[realtime.agent_group(ani.pk)] == [
        {"type": "conversation.removed", "conversation_id": chat.pk}
    ]


def test_only_the_assigned_agent_may_transfer_and_a_refusal_changes_nothing():
    sales = division()
    ani, budi, citra = agent_in(sales), agent_in(sales), agent_in(sales)
    chat = open_chat(ani)

    with pytest.raises(ValidationError) as error:
        conversation_transfer(conversation=chat, by_agent=budi, to_agent=citra)
    assert error.value.code == "not_assigned"

    citra.is_active = False
    citra.save()
    with pytest.raises(ValidationError) as error:
        conversation_transfer(conversation=chat, by_agent=ani, to_agent=citra, note="x")
    assert error.value.code == "agent_inactive"

    with pytest.raises(ValidationError) as error:
        conversation_transfer(conversation=chat, by_agent=ani, to_agent=budi, to_division=sales)
    assert error.value.code == "one_target"

    with pytest.raises(ValidationError) as error:
        conversation_transfer(conversation=chat, by_agent=ani, to_agent=ani)
    assert error.value.code == "same_agent"

    chat.refresh_from_db()
    assert chat.agent_id == ani.pk
    assert not AssignmentLog.objects.exists()
    assert not Message.objects.exists()


def test_a_resolved_chat_cannot_be_transferred():
    sales = division()
    ani, budi = agent_in(sales), agent_in(sales)
    chat = open_chat(ani)
    Conversation.objects.filter(pk=chat.pk).update(status=Conversation.Status.RESOLVED)
    with pytest.raises(ValidationError) as error:
        conversation_transfer(conversation=chat, by_agent=ani, to_agent=budi)
    assert error.value.code == "resolved"


def test_a_supervisor_may_transfer_a_queued_chat_and_the_queue_drops_it():
    sales = division()
    budi = agent_in(sales)
    contact = ContactFactory(device=budi.device)
    chat = ConversationFactory(contact=contact, division=sales, status=Conversation.Status.QUEUED)
    boss = StaffFactory(first_name="Sri", last_name="Wahyuni")

    new_agent, events = events_during(
        lambda: conversation_transfer_by_user(
            conversation=chat, by_user=boss, to_agent=budi, note="Pelanggan lama, tolong dibantu"
        ),
        expect={
            realtime.division_queue_group(sales.pk): 1,
            realtime.agent_group(budi.pk): 2,
        },
    )

    assert new_agent == budi
    assert events[realtime.division_queue_group(sales.pk)] == [
        {"type": "conversation.taken", "conversation_id": chat.pk, "agent_id": budi.pk}
    ]
    note = Message.objects.get(conversation=chat)
    assert (note.direction, note.author_name, note.sender_agent_id) == (
        Message.Direction.NOTE,
        "Sri Wahyuni",
        None,
    )
    assert AssignmentLog.objects.get(conversation=chat).note == "direct_transfer;by_staff"


def test_a_user_who_is_not_staff_may_not_transfer():
    sales = division()
    ani, budi = agent_in(sales), agent_in(sales)
    chat = open_chat(ani)
    with pytest.raises(ValidationError) as error:
        conversation_transfer_by_user(conversation=chat, by_user=UserFactory(), to_agent=budi)
    assert error.value.code == "not_staff"


# --- Hand back --------------------------------------------------------------------------------


def test_hand_back_goes_to_a_colleague_never_to_the_agent_who_gave_it_up():
    sales = division()
    ani, budi = agent_in(sales, name="Ani"), agent_in(sales, name="Budi")
    chats = [open_chat(ani) for _ in range(3)]

    for chat in chats:
        new_agent, events = events_during(
            lambda chat=chat: conversation_hand_back(conversation=chat, by_agent=ani),
            expect={realtime.agent_group(ani.pk): 1, realtime.agent_group(budi.pk): 1},
        )
        assert new_agent == budi
        assert events[realtime.agent_group(ani.pk)] == [
            {"type": "conversation.removed", "conversation_id": chat.pk}
        ]
        assert events[realtime.agent_group(budi.pk)] == [
            {"type": "conversation.assigned", "conversation_id": chat.pk, "agent_id": budi.pk}
        ]
        log = AssignmentLog.objects.get(conversation=chat)
        assert log.trigger == Trigger.HAND_BACK
        assert {"id": ani.pk, "name": "Ani", "reason": SkipReason.HANDED_ON} in [
            {key: row.get(key) for key in ("id", "name", "reason")} for row in log.skipped
        ]


def test_hand_back_with_no_colleague_eligible_queues_the_chat():
    sales = division()
    ani = agent_in(sales)
    chat = open_chat(ani)

    new_agent, events = events_during(
        lambda: conversation_hand_back(conversation=chat, by_agent=ani),
        expect={realtime.agent_group(ani.pk): 1, realtime.division_queue_group(sales.pk): 1},
    )

    assert new_agent is None
    chat.refresh_from_db()
    assert (chat.agent_id, chat.status) == (None, Conversation.Status.QUEUED)
    assert events[realtime.agent_group(ani.pk)] == [
        {"type": "conversation.removed", "conversation_id": chat.pk}
    ]
    assert events[realtime.division_queue_group(sales.pk)] == [
        {"type": "conversation.queued", "conversation_id": chat.pk, "division_id": sales.pk}
    ]


def test_only_the_assigned_agent_may_hand_back():
    sales = division()
    ani, budi = agent_in(sales), agent_in(sales)
    chat = open_chat(ani)
    with pytest.raises(ValidationError) as error:
        conversation_hand_back(conversation=chat, by_agent=budi)
    assert error.value.code == "not_assigned"
    chat.refresh_from_db()
    assert chat.agent_id == ani.pk
