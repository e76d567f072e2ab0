"""The send path end to end: `message_reply_create` → commit → Redis → a real Celery worker
(threads pool) → a local gateway speaking Fonnte → the recorded outcome.

Assertions are on states and on what the gateway received; waits are bounded polls.
"""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import close_old_connections

from chats.models import Message
from chats.services import outbound
from chats.services.outbound import message_reply_create, message_retry
from chats.tasks.sending import send_message
from devices_app.gateways.fonnte.send import REASON_UNCONFIRMED_TIMEOUT
from devices_app.models import Device
from realtime import publisher as realtime
from tests.gateway_server import (  # noqa: F401
    FonnteGateway,
    accept,
    gateway_fixture,
    http_error,
    refuse,
    slow,
)
from tests.workers import (
    assigned_conversation,
    broker_idle,
    inbound,
    thread_worker,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

S = Message.Status
SETTLED = {S.SENT, S.FAILED, S.UNCONFIRMED}


@pytest.fixture(autouse=True)
def _no_pacing(settings):
    # Pacing has its own tests; here every send may go at once.
    settings.SEND_RATE_PER_DEVICE = 0


@pytest.fixture
def worker():
    with thread_worker() as running:
        yield running
    close_old_connections()


def status_of(message: Message) -> str:
    return Message.objects.values_list("status", flat=True).get(pk=message.pk)


def settled(message: Message, statuses=SETTLED) -> Message:
    wait_until(lambda: status_of(message) in statuses, what=f"message {message.pk} to settle")
    message.refresh_from_db()
    return message


def reply(conversation, text: str = "Halo, ada yang bisa dibantu?", **kwargs) -> Message:
    return message_reply_create(
        conversation=conversation, agent=conversation.agent, text=text, **kwargs
    )


def test_a_reply_is_sent_with_fonntes_fields_and_its_gateway_id_recorded(
    gateway: FonnteGateway, worker
):
    conversation = assigned_conversation()
    question = inbound(conversation, inbox_id=987654)
    message = settled(reply(conversation, quoted=question))

    assert message.status == S.SENT
    assert message.sent_at is not None
    assert message.gateway_message_id.isdigit()
    assert message.send_attempts == 1
    assert message.failure_reason == message.wait_reason == ""
    [request] = gateway.requests
    assert request.headers["authorization"] == "device-token-123"
    assert request.json == {
        "target": "6281234567890",
        "message": "Halo, ada yang bisa dibantu?",
        "countryCode": "0",
        "inboxid": 987654,
    }


def test_connection_refused_is_retried_and_the_message_sent_once(gateway: FonnteGateway, worker):
    gateway.server.stop()  # same port, nothing listening: connection refused
    conversation = assigned_conversation()
    message = reply(conversation)

    # The first attempt found nobody: back to queued, with the reason shown, for a retry.
    wait_until(
        lambda: (
            Message.objects.filter(pk=message.pk, send_attempts__gte=1, status=S.QUEUED)
            .exclude(wait_reason="")
            .exists()
        ),
        what="the first, refused attempt",
    )
    gateway.server.start()
    message = settled(message)

    assert message.status == S.SENT
    assert message.send_attempts >= 2
    assert len(gateway.requests) == 1


def test_a_server_error_is_retried_then_sent_once(gateway: FonnteGateway, worker):
    gateway.respond(http_error(503), accept)
    message = settled(reply(assigned_conversation()))

    assert message.status == S.SENT
    assert message.send_attempts == 2
    assert len(gateway.requests) == 2  # the refused one and the accepted one


def test_a_permanent_refusal_fails_at_once_with_the_reason(gateway: FonnteGateway, worker):
    gateway.respond(refuse("target invalid"))
    message = settled(reply(assigned_conversation()))

    assert message.status == S.FAILED
    assert message.failure_reason == "target invalid"
    assert message.send_attempts == 1
    assert len(gateway.requests) == 1


def test_a_read_timeout_leaves_the_message_unconfirmed_and_is_not_retried(
    gateway: FonnteGateway, worker, settings
):
    settings.GATEWAY_READ_TIMEOUT = 0.5
    gateway.respond(slow(2.0))
    message = settled(reply(assigned_conversation()))

    assert message.status == S.UNCONFIRMED
    assert message.failure_reason == REASON_UNCONFIRMED_TIMEOUT
    # Give an (erroneous) automatic retry every chance to show up: wait until no task is
    # queued or running, yet the gateway saw one request.
    wait_until(broker_idle, what="every task run to finish")
    message.refresh_from_db()
    assert message.status == S.UNCONFIRMED
    assert message.send_attempts == 1
    assert len(gateway.requests) == 1


def test_a_proxy_timeout_leaves_the_message_unconfirmed_and_is_not_retried(
    gateway: FonnteGateway, worker
):
    # Cloudflare's 524: the gateway behind the proxy had the request and may have sent it.
    gateway.respond(http_error(524))
    message = settled(reply(assigned_conversation()))

    assert message.status == S.UNCONFIRMED
    wait_until(broker_idle, what="every task run to finish")
    message.refresh_from_db()
    assert message.status == S.UNCONFIRMED
    assert message.send_attempts == 1
    assert len(gateway.requests) == 1


def test_the_send_task_run_twice_sends_once(gateway: FonnteGateway, worker):
    gateway.respond(slow(0.3))  # keep the first run in flight while the duplicates arrive
    message = reply(assigned_conversation())
    send_message.delay(message.pk)
    send_message.delay(message.pk)
    message = settled(message)

    wait_until(broker_idle, what="the duplicate runs to finish")
    assert message.status == S.SENT
    assert message.send_attempts == 1
    assert len(gateway.requests) == 1


@pytest.mark.parametrize(
    ("first", "settles_as"),
    [(refuse("insufficient quota"), S.FAILED), (slow(2.0), S.UNCONFIRMED)],
    ids=["failed", "unconfirmed"],
)
def test_retry_sends_a_failed_or_unconfirmed_reply_again_exactly_once(
    gateway: FonnteGateway, worker, settings, first, settles_as
):
    settings.GATEWAY_READ_TIMEOUT = 0.5
    gateway.respond(first, accept)
    conversation = assigned_conversation()
    message = settled(reply(conversation))
    assert message.status == settles_as
    assert len(gateway.requests) == 1

    message_retry(message=message, agent=conversation.agent)
    message = settled(message, statuses={S.SENT, S.FAILED})

    assert message.status == S.SENT
    assert message.send_attempts == 2
    assert len(gateway.requests) == 2
    assert gateway.requests[0].json == gateway.requests[1].json


def test_retries_exhausted_fail_the_message_with_the_last_reason(
    gateway: FonnteGateway, worker, monkeypatch
):
    # Three tries instead of seven, to keep the test short; the gateway keeps failing.
    monkeypatch.setattr(send_message, "max_retries", 2)
    gateway.respond(http_error(503))
    message = settled(reply(assigned_conversation()), statuses={S.FAILED, S.SENT})

    assert message.status == S.FAILED
    assert "HTTP 503" in message.failure_reason
    assert message.send_attempts == 3
    assert len(gateway.requests) == 3


def test_sandbox_devices_send_to_sapas_own_fonnte_simulator(
    gateway: FonnteGateway, worker, settings
):
    # The sandbox answers like Fonnte under PUBLIC_BASE_URL/sandbox/fonnte.
    settings.PUBLIC_BASE_URL = gateway.url
    gateway.server.expect_request("/sandbox/fonnte/send", method="POST").respond_with_handler(
        gateway._handle
    )
    message = settled(reply(assigned_conversation(gateway=Device.Gateway.SANDBOX)))
    assert message.status == S.SENT
    assert len(gateway.requests) == 1


def test_a_paced_reply_waits_for_its_slot_and_is_then_sent_once(
    gateway: FonnteGateway, worker, settings
):
    settings.SEND_RATE_PER_DEVICE = 2.0
    settings.SEND_BURST_PER_DEVICE = 1
    conversation = assigned_conversation()
    messages = [reply(conversation, text=f"Reply {n}") for n in range(3)]
    for message in messages:
        settled(message)

    assert [status_of(m) for m in messages] == [S.SENT] * 3
    assert sorted(r.json["message"] for r in gateway.requests) == [
        "Reply 0",
        "Reply 1",
        "Reply 2",
    ]
    assert outbound.message_send_attempt(message_id=messages[0].pk).outcome.value == "skipped"


def test_status_changes_made_by_the_worker_are_pushed_to_the_agent(gateway: FonnteGateway, worker):
    """The publisher works from a real Celery worker thread (PITFALLS: event loops)."""
    conversation = assigned_conversation()
    layer = get_channel_layer()

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add(realtime.agent_group(conversation.agent_id), channel)
        message = await sync_to_async(reply)(conversation)
        seen = []
        while "sent" not in seen:
            event = await asyncio.wait_for(layer.receive(channel), timeout=30)
            if event["type"] == "message.status_changed":
                assert event["message_id"] == message.pk
                assert event["conversation_id"] == conversation.pk
                seen.append(event["status"])
        return seen

    assert async_to_sync(scenario)() == ["sending", "sent"]
