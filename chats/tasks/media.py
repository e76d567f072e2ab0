"""Tasks of the media flow: copy incoming attachments, daily retention."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.conf import settings

from ..models import Message
from ..services.media import (
    AttachmentTemporarilyUnavailable,
    attachment_copy_run,
    attachment_mark_unavailable,
    media_delete_older_than,
)

logger = logging.getLogger(__name__)

__all__ = ["attachment_copy", "media_retention"]


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


@shared_task(name="chats.media_retention")
def media_retention() -> int:
    """Daily (beat): delete stored attachments older than MEDIA_RETENTION_DAYS (0 keeps all)."""
    deleted = media_delete_older_than(days=settings.MEDIA_RETENTION_DAYS)
    if deleted:
        logger.info("media retention deleted %d files", deleted)
    return deleted
