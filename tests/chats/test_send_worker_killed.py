"""Lost workers and lost tasks, with real `celery worker` processes.

A worker killed while the gateway holds its request open: the outcome is unknown, so the message
must end `unconfirmed` (by the sweep), never be lost and never be sent a second time — not even
when the broker redelivers the unacknowledged task to another worker (acks_late +
reject_on_worker_lost). And a task lost from the broker is re-enqueued by the sweep.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone

from chats.models import Message
from chats.services.outbound import (
    REASON_INTERRUPTED,
    message_reply_create,
    messages_sweep_stuck,
)
from tests.gateway_server import FonnteGateway, gateway_fixture  # noqa: F401
from tests.workers import (
    WorkerProcess,
    assigned_conversation,
    broker_tasks,
    thread_worker,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

S = Message.Status


def unacked_count() -> int:
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    try:
        return client.hlen("unacked") + client.llen("celery")
    finally:
        client.close()


def seconds_unacked() -> float:
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    try:
        [(_tag, delivered_at)] = client.zrange("unacked_index", 0, -1, withscores=True)
        return time.time() - delivered_at
    finally:
        client.close()


def test_a_worker_killed_mid_send_leaves_the_message_unconfirmed_and_sent_once(
    gateway: FonnteGateway,
):
    gateway.respond(gateway.block)  # the gateway holds the request open
    env = {"FONNTE_API_URL": gateway.url, "SEND_RATE_PER_DEVICE": "0"}
    first = WorkerProcess(env)
    second = None
    try:
        first.wait_ready()
        conversation = assigned_conversation()
        message = message_reply_create(
            conversation=conversation, agent=conversation.agent, text="Sebentar ya"
        )
        assert gateway.arrived.wait(timeout=60), first.log()
        assert Message.objects.get(pk=message.pk).status == S.SENDING

        first.kill()  # mid-request: no answer read, no ack
        gateway.release.set()  # the gateway did take it: this message went out once
        # The task is unacknowledged in the broker, and the message is not lost.
        assert unacked_count() == 1
        assert Message.objects.get(pk=message.pk).status == S.SENDING

        # Another worker, whose broker redelivers tasks unacknowledged for over a second. It
        # restores them when it starts, so start it once the delivery is older than that.
        wait_until(lambda: seconds_unacked() > 2, what="the delivery to age past 1 s")
        second = WorkerProcess(
            {
                **env,
                "CELERY_VISIBILITY_TIMEOUT": "1",
                "SEND_PACING_MAX_WAIT": "0.5",
                "SEND_RETRY_BACKOFF_MAX": "0",
                # A task that finds nothing to do is logged at DEBUG only.
                "LOG_LEVEL": "DEBUG",
            }
        )
        second.wait_ready()
        wait_until(lambda: unacked_count() == 0, what="the redelivered task to run")
        # The redelivered task ran there, found the message claimed and did nothing.
        wait_until(
            lambda: "chats.send_message" in second.log() and "'skipped'" in second.log(),
            what="the redelivered task's result in the second worker's log",
        )
        assert Message.objects.get(pk=message.pk).status == S.SENDING
        assert len(gateway.requests) == 1

        # The sweep, once the claim is older than any live call could be.
        later = timezone.now() + timedelta(seconds=django_settings.SEND_STUCK_AFTER + 1)
        assert messages_sweep_stuck(now=later) == {"unconfirmed": 1, "requeued": 0}
        message.refresh_from_db()
        assert message.status == S.UNCONFIRMED
        assert message.failure_reason == REASON_INTERRUPTED
        assert message.send_attempts == 1
        assert len(gateway.requests) == 1
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_the_sweep_reenqueues_a_reply_whose_task_was_lost(gateway: FonnteGateway, settings):
    settings.SEND_RATE_PER_DEVICE = 0
    conversation = assigned_conversation()
    message = message_reply_create(conversation=conversation, agent=conversation.agent, text="Halo")
    assert [t.args for t in broker_tasks()] == [[message.pk]]
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # the broker lost the task

    with thread_worker():
        later = timezone.now() + timedelta(seconds=settings.SEND_QUEUED_STUCK_AFTER + 1)
        assert messages_sweep_stuck(now=later) == {"unconfirmed": 0, "requeued": 1}
        wait_until(
            lambda: Message.objects.filter(pk=message.pk, status=S.SENT).exists(),
            what="the re-enqueued reply to be sent",
        )
    assert len(gateway.requests) == 1
