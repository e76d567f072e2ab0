"""Starting a chat with a number from the workspace."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections

from chats.models import Contact, Conversation, Message
from chats.services.starting import conversation_start
from realtime import publisher as realtime
from rotation.models import AssignmentLog
from tests.factories import ContactFactory, ConversationFactory, DeviceFactory
from tests.gateway_server import FonnteGateway, gateway_fixture  # noqa: F401
from tests.workers import thread_worker, wait_until

from .tools_support import agent_in, division, events_during, open_chat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ani():
    sales = division(name="Sales")
    device = DeviceFactory(number="6287700000001", division=sales, gateway_token="tok-ani")
    return agent_in(sales, device=device, name="Ani")


def test_a_local_number_opens_a_chat_assigned_to_the_agent(ani):
    chat, events = events_during(
        lambda: conversation_start(agent=ani, number="0812-3456-7890"),
        expect={realtime.agent_group(ani.pk): 1},
    )

    assert (chat.agent_id, chat.status, chat.division_id, chat.device_id) == (
        ani.pk,
        Conversation.Status.OPEN,
        ani.division_id,
        ani.device_id,
    )
    assert chat.contact.address == "6281234567890"
    assert chat.contact.device_id == ani.device_id
    assert chat.assigned_at is not None
    log = AssignmentLog.objects.get(conversation=chat)
    assert (log.trigger, log.agent_id, log.note) == (
        AssignmentLog.Trigger.TAKE,
        ani.pk,
        "started_by_agent",
    )
    assert events[realtime.agent_group(ani.pk)] == [
        {"type": "conversation.updated", "conversation_id": chat.pk}
    ]
    # Again: the same chat, nothing new.
    again = conversation_start(agent=ani, number="+62 812 3456 7890")
    assert again == chat
    assert Conversation.objects.count() == 1
    assert AssignmentLog.objects.count() == 1


@pytest.fixture
def worker(settings):
    settings.SEND_RATE_PER_DEVICE = 0
    with thread_worker() as running:
        yield running
    close_old_connections()


def test_a_first_message_goes_out_through_the_normal_send_path(ani, gateway: FonnteGateway, worker):
    chat = conversation_start(agent=ani, number="6281234567890", text="Halo, dari Toko Sapa")
    message = Message.objects.get(conversation=chat)
    assert (message.direction, message.sender_agent_id) == (Message.Direction.OUT, ani.pk)
    wait_until(
        lambda: Message.objects.filter(pk=message.pk, status=Message.Status.SENT).exists(),
        what="the first message sent",
    )
    [request] = gateway.requests
    assert request.headers["authorization"] == "tok-ani"
    assert request.json["target"] == "6281234567890"
    assert request.json["message"] == "Halo, dari Toko Sapa"


@pytest.mark.parametrize("number", ["", "12", "hello", "0812"])
def test_an_invalid_number_is_refused_clearly(ani, number):
    with pytest.raises(ValidationError) as error:
        conversation_start(agent=ani, number=number)
    assert error.value.code == "invalid_number"
    assert "country code" in error.value.messages[0]
    assert not Contact.objects.exists()


def test_the_devices_own_number_is_refused(ani):
    with pytest.raises(ValidationError) as error:
        conversation_start(agent=ani, number="087700000001")
    assert error.value.code == "own_number"


def test_a_chat_with_another_agent_is_refused_and_nothing_changes(ani):
    budi = agent_in(ani.division, device=ani.device, name="Budi")
    theirs = open_chat(budi, address="6281234567890")
    with pytest.raises(ValidationError) as error:
        conversation_start(agent=ani, number="081234567890", text="Halo")
    assert error.value.code == "in_use"
    assert "Budi" in error.value.messages[0]
    theirs.refresh_from_db()
    assert theirs.agent_id == budi.pk
    assert not Message.objects.exists()
    assert Conversation.objects.count() == 1


def test_a_chat_waiting_in_the_agents_queue_is_taken_up(ani):
    contact = ContactFactory(device=ani.device, address="6281234567890")
    waiting = ConversationFactory(
        contact=contact, division=ani.division, status=Conversation.Status.QUEUED
    )
    chat, events = events_during(
        lambda: conversation_start(agent=ani, number="081234567890"),
        expect={
            realtime.agent_group(ani.pk): 1,
            realtime.division_queue_group(ani.division_id): 1,
        },
    )
    assert chat == waiting
    chat.refresh_from_db()
    assert (chat.agent_id, chat.status) == (ani.pk, Conversation.Status.OPEN)
    assert events[realtime.division_queue_group(ani.division_id)] == [
        {"type": "conversation.taken", "conversation_id": chat.pk, "agent_id": ani.pk}
    ]


def test_a_resolved_episode_does_not_block_a_new_one(ani):
    old = open_chat(ani, address="6281234567890")
    Conversation.objects.filter(pk=old.pk).update(status=Conversation.Status.RESOLVED)
    chat = conversation_start(agent=ani, number="081234567890")
    assert chat != old
    assert chat.contact_id == old.contact_id
    assert chat.status == Conversation.Status.OPEN


def test_an_inactive_agent_cannot_start_a_chat(ani):
    ani.is_active = False
    ani.save()
    with pytest.raises(ValidationError) as error:
        conversation_start(agent=ani, number="081234567890")
    assert error.value.code == "agent_inactive"
