"""Per-device pacing inside the send attempt: a send that finds no token is re-scheduled with a
countdown for its booked slot, not dropped, and the re-scheduled run sends without asking the
bucket again."""

from __future__ import annotations

from datetime import datetime

import pytest

from chats.models import Message
from chats.services.outbound import WAIT_PACING, Outcome, message_send_attempt
from tests.gateway_server import FonnteGateway, gateway_fixture  # noqa: F401
from tests.workers import assigned_conversation, broker_tasks

pytestmark = pytest.mark.django_db

S = Message.Status


def queued(conversation, n: int) -> list[Message]:
    return [
        Message.objects.create(
            conversation=conversation,
            device=conversation.device,
            direction=Message.Direction.OUT,
            sender_agent=conversation.agent,
            text=f"Reply {k}",
            status=S.QUEUED,
        )
        for k in range(n)
    ]


def test_sends_beyond_the_rate_are_rescheduled_for_their_booked_slots(
    gateway: FonnteGateway, settings, django_capture_on_commit_callbacks
):
    settings.SEND_RATE_PER_DEVICE = 0.5  # one every 2 s: a slow machine cannot blur it
    settings.SEND_BURST_PER_DEVICE = 1
    first, second, third = queued(assigned_conversation(), 3)

    # (The test runs inside a transaction; in a worker the enqueue happens at once.)
    with django_capture_on_commit_callbacks(execute=True):
        results = [message_send_attempt(message_id=m.pk) for m in (first, second, third)]

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.DEFERRED, Outcome.DEFERRED]
    assert results[1].booked and results[2].booked
    assert 0 < results[1].wait <= 2.0 < results[2].wait <= 4.0
    assert len(gateway.requests) == 1

    # Not dropped: each waits, visibly, with a task scheduled for its slot.
    for message in (second, third):
        message.refresh_from_db()
        assert (message.status, message.wait_reason) == (S.QUEUED, WAIT_PACING)
    tasks = broker_tasks()
    assert [(t.name, t.args, t.kwargs) for t in tasks] == [
        ("chats.send_message", [second.pk], {"booked": True}),
        ("chats.send_message", [third.pk], {"booked": True}),
    ]
    etas = [datetime.fromisoformat(t.eta) for t in tasks]
    # Their countdowns put them one interval (2 s) apart.
    assert (etas[1] - etas[0]).total_seconds() == pytest.approx(2.0, abs=0.5)

    # When the scheduled run comes, it uses its booked slot without asking the bucket again.
    assert message_send_attempt(message_id=second.pk, booked=True).outcome is Outcome.SENT
    second.refresh_from_db()
    assert (second.status, second.wait_reason) == (S.SENT, "")
    assert len(gateway.requests) == 2


def test_a_wait_beyond_the_cap_books_nothing_and_asks_again_later(
    gateway: FonnteGateway, settings, django_capture_on_commit_callbacks
):
    settings.SEND_RATE_PER_DEVICE = 0.5
    settings.SEND_BURST_PER_DEVICE = 1
    settings.SEND_PACING_MAX_WAIT = 1.0
    first, second = queued(assigned_conversation(), 2)

    assert message_send_attempt(message_id=first.pk).outcome is Outcome.SENT
    with django_capture_on_commit_callbacks(execute=True):
        result = message_send_attempt(message_id=second.pk)

    assert result.outcome is Outcome.DEFERRED and not result.booked
    [task] = broker_tasks()
    assert (task.args, task.kwargs) == ([second.pk], {"booked": False})


def test_an_automatic_retry_asks_the_bucket_again(gateway: FonnteGateway, settings):
    # The slot booked for a run is used by that run only; a retry after an outage is paced
    # like any other send instead of bursting out.
    from chats.tasks.sending import send_message

    settings.SEND_RATE_PER_DEVICE = 0.5
    settings.SEND_BURST_PER_DEVICE = 1
    first, retried, booked = queued(assigned_conversation(), 3)
    assert message_send_attempt(message_id=first.pk).outcome is Outcome.SENT

    retry_run = send_message.apply(args=[retried.pk], kwargs={"booked": True}, retries=1)
    booked_run = send_message.apply(args=[booked.pk], kwargs={"booked": True})

    assert retry_run.get() == Outcome.DEFERRED.value
    assert booked_run.get() == Outcome.SENT.value
    retried.refresh_from_db()
    assert (retried.status, retried.wait_reason) == (S.QUEUED, WAIT_PACING)
    assert len(gateway.requests) == 2
