"""The outbound services as the reply box will call them: validation, what is stored, what is
enqueued and pushed on commit, Retry rules, and the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from chats.models import Conversation, Message
from chats.services import outbound
from chats.services.outbound import (
    message_reason_display,
    message_reply_create,
    message_retry,
    messages_release_for_device,
    messages_sweep_stuck,
)
from devices_app.gateways import registry
from devices_app.gateways.base import Capabilities, GatewayAdapter
from devices_app.models import Device
from realtime import publisher as realtime
from tests.factories import AgentFactory
from tests.workers import assigned_conversation, broker_tasks, inbound

pytestmark = pytest.mark.django_db

S = Message.Status


def test_reply_is_stored_queued_and_its_send_task_enqueued_on_commit(
    django_capture_on_commit_callbacks,
):
    conversation = assigned_conversation()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = message_reply_create(
            conversation=conversation, agent=conversation.agent, text="  Halo, ada yang bisa?  "
        )
        # Nothing reaches the broker before the transaction commits.
        assert broker_tasks() == []
    for callback in callbacks:
        callback()

    message.refresh_from_db()
    assert message.direction == Message.Direction.OUT
    assert message.status == S.QUEUED
    assert message.text == "Halo, ada yang bisa?"
    assert message.sender_agent == conversation.agent
    assert message.device == conversation.device
    assert message.next_attempt_at is not None
    [task] = broker_tasks()
    assert (task.name, task.args) == ("chats.send_message", [message.pk])


def test_reply_updates_the_conversation_activity_preview_and_first_response(
    django_capture_on_commit_callbacks,
):
    conversation = assigned_conversation()
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        message_reply_create(
            conversation=conversation, agent=conversation.agent, text="First\nanswer " + "x" * 300
        )
    conversation.refresh_from_db()
    assert conversation.last_activity_at >= before
    assert conversation.last_message_preview.startswith("First answer x")
    assert len(conversation.last_message_preview) == 160
    first = conversation.first_response_at
    assert first is not None

    with django_capture_on_commit_callbacks(execute=True):
        message_reply_create(conversation=conversation, agent=conversation.agent, text="Second")
    conversation.refresh_from_db()
    assert conversation.first_response_at == first
    assert conversation.last_message_preview == "Second"


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty"), ("   \n ", "empty"), ("x" * 60_001, "too_long")],
)
def test_reply_text_must_be_present_and_within_fonntes_limit(text, code):
    conversation = assigned_conversation()
    with pytest.raises(ValidationError) as error:
        message_reply_create(conversation=conversation, agent=conversation.agent, text=text)
    assert error.value.code == code
    assert not Message.objects.exists()


def test_reply_of_exactly_60000_characters_is_accepted(django_capture_on_commit_callbacks):
    conversation = assigned_conversation()
    with django_capture_on_commit_callbacks(execute=True):
        message = message_reply_create(
            conversation=conversation, agent=conversation.agent, text="x" * 60_000
        )
    assert len(message.text) == 60_000


def test_only_the_assigned_agent_may_reply():
    conversation = assigned_conversation()
    colleague = AgentFactory(device=conversation.device, division=conversation.division)
    with pytest.raises(ValidationError) as error:
        message_reply_create(conversation=conversation, agent=colleague, text="Hi")
    assert error.value.code == "not_assigned"
    assert not Message.objects.exists()


def test_no_reply_into_a_resolved_or_unassigned_conversation():
    conversation = assigned_conversation()
    agent = conversation.agent
    conversation.status = Conversation.Status.RESOLVED
    conversation.save()
    with pytest.raises(ValidationError) as error:
        message_reply_create(conversation=conversation, agent=agent, text="Hi")
    assert error.value.code == "resolved"

    conversation.status, conversation.agent = Conversation.Status.QUEUED, None
    conversation.save()
    with pytest.raises(ValidationError) as error:
        message_reply_create(conversation=conversation, agent=agent, text="Hi")
    assert error.value.code == "not_assigned"
    assert not Message.objects.exists()


def test_inactive_agent_may_not_reply():
    conversation = assigned_conversation()
    conversation.agent.is_active = False
    conversation.agent.save()
    with pytest.raises(ValidationError) as error:
        message_reply_create(conversation=conversation, agent=conversation.agent, text="Hi")
    assert error.value.code == "agent_inactive"


def test_the_assignment_is_checked_against_the_database_not_the_callers_copy():
    conversation = assigned_conversation()
    agent = conversation.agent
    # Transferred to a colleague after the caller loaded its copy.
    colleague = AgentFactory(device=conversation.device, division=conversation.division)
    Conversation.objects.filter(pk=conversation.pk).update(agent=colleague)
    with pytest.raises(ValidationError):
        message_reply_create(conversation=conversation, agent=agent, text="Hi")


def test_a_quote_must_come_from_the_same_chat(django_capture_on_commit_callbacks):
    conversation = assigned_conversation()
    question = inbound(conversation, inbox_id=555)
    with django_capture_on_commit_callbacks(execute=True):
        reply = message_reply_create(
            conversation=conversation, agent=conversation.agent, text="Yes", quoted=question
        )
    assert reply.quoted == question

    elsewhere = assigned_conversation()
    foreign = inbound(elsewhere)
    with pytest.raises(ValidationError) as error:
        message_reply_create(
            conversation=conversation, agent=conversation.agent, text="No", quoted=foreign
        )
    assert error.value.code == "bad_quote"


@pytest.mark.django_db(transaction=True)
def test_reply_pushes_message_created_to_the_agent_after_commit():
    conversation = assigned_conversation()
    layer = get_channel_layer()

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add(realtime.agent_group(conversation.agent_id), channel)
        from asgiref.sync import sync_to_async

        message = await sync_to_async(message_reply_create)(
            conversation=conversation, agent=conversation.agent, text="Hi"
        )
        event = await layer.receive(channel)
        return message, event

    message, event = async_to_sync(scenario)()
    assert event == {
        "type": "message.created",
        "message_id": message.pk,
        "conversation_id": conversation.pk,
        "new_chat": False,
    }


# --- Retry ------------------------------------------------------------------------------------


def _outbound(conversation, *, status, reason="token invalid") -> Message:
    return Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.OUT,
        sender_agent=conversation.agent,
        text="Hi",
        status=status,
        failure_reason=reason,
        send_attempts=1,
    )


@pytest.mark.parametrize("status", [S.FAILED, S.UNCONFIRMED])
def test_retry_requeues_failed_and_unconfirmed_replies(status, django_capture_on_commit_callbacks):
    conversation = assigned_conversation()
    message = _outbound(conversation, status=status)
    with django_capture_on_commit_callbacks(execute=True):
        message_retry(message=message, agent=conversation.agent)
    message.refresh_from_db()
    assert message.status == S.QUEUED
    assert message.failure_reason == ""
    assert [(t.name, t.args) for t in broker_tasks()] == [("chats.send_message", [message.pk])]


@pytest.mark.parametrize("status", [S.QUEUED, S.SENDING, S.SENT, S.DELIVERED, S.READ])
def test_retry_refuses_messages_that_are_not_failed_or_unconfirmed(status):
    conversation = assigned_conversation()
    message = _outbound(conversation, status=status, reason="")
    with pytest.raises(ValidationError) as error:
        message_retry(message=message, agent=conversation.agent)
    assert error.value.code == "not_retryable"
    message.refresh_from_db()
    assert message.status == status
    assert broker_tasks() == []


def test_retry_is_for_the_assigned_agent_and_outbound_messages_only():
    conversation = assigned_conversation()
    message = _outbound(conversation, status=S.FAILED)
    colleague = AgentFactory(device=conversation.device, division=conversation.division)
    with pytest.raises(ValidationError):
        message_retry(message=message, agent=colleague)
    with pytest.raises(ValidationError) as error:
        message_retry(message=inbound(conversation), agent=conversation.agent)
    assert error.value.code == "not_outbound"
    message.refresh_from_db()
    assert message.status == S.FAILED


def test_a_second_retry_click_is_refused(django_capture_on_commit_callbacks):
    conversation = assigned_conversation()
    message = _outbound(conversation, status=S.UNCONFIRMED)
    with django_capture_on_commit_callbacks(execute=True):
        message_retry(message=message, agent=conversation.agent)
    with pytest.raises(ValidationError):
        message_retry(message=message, agent=conversation.agent)
    assert len(broker_tasks()) == 1


# --- Sweep ------------------------------------------------------------------------------------


def test_sweep_requeues_stuck_queued_messages_once(settings, django_capture_on_commit_callbacks):
    conversation = assigned_conversation()
    now = timezone.now()
    stuck = _outbound(conversation, status=S.QUEUED, reason="")
    fresh = _outbound(conversation, status=S.QUEUED, reason="")
    Message.objects.filter(pk=stuck.pk).update(
        next_attempt_at=now - timedelta(seconds=settings.SEND_QUEUED_STUCK_AFTER + 5)
    )
    Message.objects.filter(pk=fresh.pk).update(next_attempt_at=now)

    with django_capture_on_commit_callbacks(execute=True):
        result = messages_sweep_stuck(now=now)
    assert result == {"unconfirmed": 0, "requeued": 1}
    assert [(t.name, t.args) for t in broker_tasks()] == [("chats.send_message", [stuck.pk])]

    # The sweep moved its expected run to now: the next sweep leaves it alone.
    with django_capture_on_commit_callbacks(execute=True):
        again = messages_sweep_stuck(now=now + timedelta(seconds=1))
    assert again["requeued"] == 0


def test_sweep_turns_old_sending_into_unconfirmed_and_leaves_recent_ones(settings):
    conversation = assigned_conversation()
    now = timezone.now()
    old = _outbound(conversation, status=S.SENDING, reason="")
    recent = _outbound(conversation, status=S.SENDING, reason="")
    Message.objects.filter(pk=old.pk).update(
        send_started_at=now - timedelta(seconds=settings.SEND_STUCK_AFTER + 1)
    )
    Message.objects.filter(pk=recent.pk).update(send_started_at=now - timedelta(seconds=5))

    assert messages_sweep_stuck(now=now) == {"unconfirmed": 1, "requeued": 0}
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == S.UNCONFIRMED
    assert old.failure_reason == outbound.REASON_INTERRUPTED
    assert recent.status == S.SENDING
    assert broker_tasks() == []


def test_sweep_leaves_replies_of_a_disconnected_device_waiting(
    settings, django_capture_on_commit_callbacks
):
    conversation = assigned_conversation(status=Device.Status.DISCONNECTED)
    message = _outbound(conversation, status=S.QUEUED, reason="")
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(hours=1),
        wait_reason=outbound.WAIT_DEVICE_DISCONNECTED,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_sweep_stuck()["requeued"] == 0
    assert broker_tasks() == []

    # Reconnected: the device-status webhook releases them at once.
    conversation.device.status = Device.Status.CONNECTED
    conversation.device.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_release_for_device(device=conversation.device) == 1
    assert [t.args for t in broker_tasks()] == [[message.pk]]


# --- Disconnected device, unsupported gateways, reasons -------------------------------------------


def test_reply_on_a_disconnected_device_waits_and_says_why(django_capture_on_commit_callbacks):
    conversation = assigned_conversation(status=Device.Status.DISCONNECTED)
    with django_capture_on_commit_callbacks(execute=True):
        message = message_reply_create(
            conversation=conversation, agent=conversation.agent, text="Hi"
        )
    result = outbound.message_send_attempt(message_id=message.pk)
    assert result.outcome is outbound.Outcome.WAITING_DEVICE
    message.refresh_from_db()
    assert message.status == S.QUEUED
    assert message.send_attempts == 0
    with override("en"):
        assert message_reason_display(message=message) == "Waiting: the device is disconnected."


class _MuteGateway(GatewayAdapter):
    """A gateway Sapa cannot send through at all (every registered one sends today)."""

    kind = "mute"
    label = "Mute"
    capabilities = Capabilities(
        can_send=False, cannot_send_reason="Sapa cannot send through Mute yet."
    )


@pytest.fixture
def mute_gateway(monkeypatch):
    monkeypatch.setitem(registry.ADAPTERS, "mute", _MuteGateway())
    return "mute"


def test_a_gateway_that_cannot_send_refuses_the_reply_before_storing_it(mute_gateway):
    # Its capabilities say it cannot send: the agent reads why at once, and no reply is stored
    # that could only fail behind a Retry that never works.
    conversation = assigned_conversation(gateway=mute_gateway)
    with override("en"), pytest.raises(ValidationError) as refused:
        message_reply_create(conversation=conversation, agent=conversation.agent, text="Hi")
    assert refused.value.messages[0].startswith("Sapa cannot send through")
    assert refused.value.code == "gateway_cannot_send"
    assert not Message.objects.filter(direction=Message.Direction.OUT).exists()


def test_a_queued_reply_on_a_gateway_that_cannot_send_fails_at_once_and_offers_no_retry(
    mute_gateway,
):
    # A reply queued while the device was on another gateway: failed at once, without an
    # attempt, with the reason; a Retry is refused with the same reason.
    conversation = assigned_conversation(gateway=mute_gateway)
    message = _outbound(conversation, status=S.QUEUED, reason="")
    Message.objects.filter(pk=message.pk).update(send_attempts=0)
    result = outbound.message_send_attempt(message_id=message.pk)
    assert result.outcome is outbound.Outcome.FAILED
    message.refresh_from_db()
    assert message.status == S.FAILED
    assert message.send_attempts == 0
    with override("en"):
        assert message_reason_display(message=message).startswith("Sapa cannot send through")
        with pytest.raises(ValidationError, match="Sapa cannot send through"):
            message_retry(message=message, agent=conversation.agent)


@pytest.mark.parametrize(
    ("gateway", "why"),
    [
        # ApiWago without its server's address (the default), wonotify without an instance id.
        (Device.Gateway.APIWAGO, "ApiWago's address is not set"),
        (Device.Gateway.WONOTIFY, "The device has no instance id."),
    ],
)
def test_a_device_set_up_incompletely_fails_its_reply_at_once_with_why(gateway, why):
    conversation = assigned_conversation(gateway=gateway)
    message = _outbound(conversation, status=S.QUEUED, reason="")
    Message.objects.filter(pk=message.pk).update(send_attempts=0)
    result = outbound.message_send_attempt(message_id=message.pk)
    assert result.outcome is outbound.Outcome.FAILED
    message.refresh_from_db()
    assert message.send_attempts == 0
    with override("en"):
        assert message_reason_display(message=message).startswith(why)


def test_gateway_reasons_are_explained_and_keep_the_gateways_words():
    conversation = assigned_conversation()
    message = _outbound(conversation, status=S.FAILED, reason="insufficient quota")
    with override("en"):
        assert message_reason_display(message=message) == (
            "The device's message quota is used up. (insufficient quota)"
        )
    message.failure_reason = "something new"
    assert message_reason_display(message=message) == "something new"
    message.status = S.SENT
    assert message_reason_display(message=message) == ""


# --- The send task's failure hook -------------------------------------------------------------


def test_giving_up_fails_a_queued_reply_with_the_last_reason():
    conversation = assigned_conversation()
    message = _outbound(conversation, status=S.QUEUED, reason="")
    assert (
        outbound.message_send_give_up(message_id=message.pk, attempt=1, reason="HTTP 502")
        == S.FAILED
    )
    message.refresh_from_db()
    assert message.status == S.FAILED
    with override("en"):
        assert message_reason_display(message=message) == (
            "The gateway kept refusing the message: HTTP 502"
        )


def test_giving_up_after_a_crash_mid_send_leaves_it_unconfirmed_not_failed():
    conversation = assigned_conversation()
    message = _outbound(conversation, status=S.SENDING, reason="")
    assert (
        outbound.message_send_give_up(
            message_id=message.pk, attempt=None, reason=outbound.REASON_INTERNAL
        )
        == S.UNCONFIRMED
    )
    message.refresh_from_db()
    assert message.failure_reason == outbound.REASON_INTERRUPTED


def test_giving_up_never_touches_a_newer_attempt_or_a_settled_message():
    conversation = assigned_conversation()
    newer = _outbound(conversation, status=S.SENDING, reason="")
    Message.objects.filter(pk=newer.pk).update(send_attempts=3)
    assert outbound.message_send_give_up(message_id=newer.pk, attempt=2, reason="x") is None
    sent = _outbound(conversation, status=S.SENT, reason="")
    assert outbound.message_send_give_up(message_id=sent.pk, attempt=1, reason="x") is None
    assert Message.objects.get(pk=newer.pk).status == S.SENDING
    assert Message.objects.get(pk=sent.pk).status == S.SENT


def test_a_crash_before_the_claim_fails_the_reply_as_an_internal_error():
    conversation = assigned_conversation()
    message = _outbound(conversation, status=S.QUEUED, reason="")
    outbound.message_send_give_up(
        message_id=message.pk, attempt=None, reason=outbound.REASON_INTERNAL
    )
    message.refresh_from_db()
    assert (message.status, message.failure_reason) == (S.FAILED, outbound.REASON_INTERNAL)
