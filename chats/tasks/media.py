"""Tasks of the media flow: copy incoming attachments (and sweep lost copies), retention."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from ..models import Message
from ..services.media import (
    AttachmentTemporarilyUnavailable,
    attachment_copy_run,
    attachment_mark_unavailable,
    attachments_give_up_older_than,
    attachments_stuck_ids,
    media_delete_older_than,
)

logger = logging.getLogger(__name__)

__all__ = ["attachment_copy", "attachment_copy_sweep", "media_retention"]


def _retry_countdown(retries: int) -> float:
    # Full jitter: many attachments failing together (gateway hiccup) do not retry in lockstep.
    ceiling = min(
        settings.ATTACHMENT_COPY_RETRY_BACKOFF * (2**retries),
        settings.ATTACHMENT_COPY_RETRY_BACKOFF_MAX,
    )
    return random.uniform(0, ceiling)


@shared_task(bind=True, name="chats.attachment_copy", max_retries=None)
def attachment_copy(self, message_id: int) -> None:
    """Copy one message's incoming attachment into private storage.

    A rerun after success (or after a definite refusal) does nothing: the service guards on the
    message's attachment state. Transient failures retry with exponential backoff and full
    jitter, at most ATTACHMENT_COPY_MAX_RETRIES times (settings are read at run time, not at
    import); then the attachment is marked unavailable (`unreachable`) instead of retrying
    forever — Fonnte will have dropped the file by then anyway.
    """
    try:
        attachment_copy_run(message_id=message_id)
    except AttachmentTemporarilyUnavailable as exc:
        if self.request.retries >= settings.ATTACHMENT_COPY_MAX_RETRIES:
            logger.warning("giving up on attachment of message %s: %s", message_id, exc)
            attachment_mark_unavailable(
                message_id=message_id, reason=Message.AttachmentError.UNREACHABLE
            )
            return
        raise self.retry(exc=exc, countdown=_retry_countdown(self.request.retries)) from exc


# Fonnte keeps a file ~30 minutes. A copy still pending after 10 minutes has lost its task (the
# retries of a live one are over by then: ATTACHMENT_COPY_RETRY_BACKOFF_MAX caps them); after
# an hour nobody can fetch it any more.
STUCK_AFTER = timedelta(minutes=10)
STILL_FETCHABLE = timedelta(minutes=30)
GIVE_UP_AFTER = timedelta(hours=1)


@shared_task(name="chats.attachment_copy_sweep")
def attachment_copy_sweep() -> int:
    """Periodic (beat): re-enqueue lost attachment copies, give up on hopeless ones.
    Safe to overlap with a running copy: the copy's conditional update stores one file."""
    attachments_give_up_older_than(age=GIVE_UP_AFTER)
    ids = attachments_stuck_ids(older_than=STUCK_AFTER, newer_than=STILL_FETCHABLE)
    for message_id in ids:
        attachment_copy.delay(message_id)
    if ids:
        logger.info("attachment sweep re-enqueued %d copies", len(ids))
    else:
        logger.debug("attachment sweep: nothing stuck")
    return len(ids)


@shared_task(name="chats.media_retention")
def media_retention() -> int:
    """Daily (beat): delete stored attachments older than MEDIA_RETENTION_DAYS (0 keeps all)."""
    deleted = media_delete_older_than(days=settings.MEDIA_RETENTION_DAYS)
    if deleted:
        logger.info("media retention deleted %d files", deleted)
    else:
        logger.debug("media retention: nothing to delete")
    return deleted
