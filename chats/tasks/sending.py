"""Tasks of the outbound flow (send, sweep). Interfaces: ids in, one service call, no logic.

`acks_late` + `task_reject_on_worker_lost` are on for every task (config/settings.py): a task
whose worker died runs again. That is safe here only because `message_send_attempt` claims the
message with a conditional UPDATE: a second run finds it no longer `queued` and does nothing.
The worker runs a threads pool, which ignores time limits; the gateway call is bounded by httpx
timeouts instead.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings

from config.logs import bind_ids

from ..services import outbound
from ..services.outbound import Outcome

logger = logging.getLogger(__name__)

__all__ = ["TransientSendError", "send_message", "sweep_stuck_messages"]


class TransientSendError(Exception):
    """The gateway certainly did not take the message (refused connection, HTTP 5xx, an
    answered error): the one case where repeating the request is safe."""

    def __init__(self, *, message_id: int, attempt: int | None, reason: str) -> None:
        super().__init__(f"message {message_id} attempt {attempt}: {reason}")
        self.message_id = message_id
        self.attempt = attempt
        self.reason = reason

    def __reduce__(self):
        # Celery serializes the exception for its retry bookkeeping.
        return (
            _rebuild_transient,
            (self.message_id, self.attempt, self.reason),
        )


def _rebuild_transient(message_id: int, attempt: int | None, reason: str) -> TransientSendError:
    return TransientSendError(message_id=message_id, attempt=attempt, reason=reason)


class _SendTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Retries exhausted (or a crash): let the service settle the message's state."""
        message_id = kwargs.get("message_id", args[0] if args else None)
        if message_id is None:
            return
        if isinstance(exc, TransientSendError):
            outbound.message_send_give_up(
                message_id=message_id, attempt=exc.attempt, reason=exc.reason
            )
        else:
            logger.error("send task for message %s failed: %r", message_id, exc)
            outbound.message_send_give_up(
                message_id=message_id, attempt=None, reason=outbound.REASON_INTERNAL
            )


@shared_task(
    bind=True,
    base=_SendTask,
    name="chats.send_message",
    # Only errors proving the gateway created nothing are retried; unknown outcomes end in
    # `unconfirmed` inside the service and never raise.
    autoretry_for=(TransientSendError,),
    retry_backoff=settings.SEND_RETRY_BACKOFF,
    retry_backoff_max=settings.SEND_RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=settings.SEND_MAX_RETRIES,
)
def send_message(self, message_id: int, booked: bool = False) -> str:
    retries = self.request.retries
    # The enqueuer's context may be about another message (a sweep, a device reconnecting).
    bind_ids(message_id=message_id)
    # A booked pacing slot belongs to the run it was booked for. An automatic retry runs later
    # with the same arguments: it asks the bucket again, so replies held back by an outage do
    # not all go out in one burst when the gateway recovers.
    result = outbound.message_send_attempt(
        message_id=message_id, booked=booked and not retries, retries=retries
    )
    _log_outcome(message_id, result)
    if result.outcome is Outcome.RETRY:
        raise TransientSendError(
            message_id=message_id, attempt=result.attempt, reason=result.reason
        )
    return result.outcome.value


def _log_outcome(message_id: int, result: outbound.AttemptResult) -> None:
    outcome = result.outcome
    if outcome is Outcome.SENT:
        logger.info("message %s sent (attempt %s)", message_id, result.attempt)
    elif outcome is Outcome.DEFERRED:
        logger.info("message %s paced: next try in %.1f s", message_id, result.wait)
    elif outcome is Outcome.WAITING_DEVICE:
        logger.info("message %s waits for its device to reconnect", message_id)
    elif outcome is Outcome.RETRY:
        logger.warning(
            "message %s not taken by the gateway, retrying: %s", message_id, result.reason
        )
    elif outcome in (Outcome.FAILED, Outcome.UNCONFIRMED):
        logger.warning("message %s %s: %s", message_id, outcome.value, result.reason)
    else:
        # Skipped (another run has it), or waiting for Redis (the service said so already).
        logger.debug("message %s: %s", message_id, outcome.value)


@shared_task(name="chats.sweep_stuck_messages")
def sweep_stuck_messages() -> dict[str, int]:
    result = outbound.messages_sweep_stuck()
    if any(result.values()):
        logger.info(
            "send sweep: %d unconfirmed, %d re-enqueued", result["unconfirmed"], result["requeued"]
        )
    else:
        logger.debug("send sweep: nothing stuck")
    return result
