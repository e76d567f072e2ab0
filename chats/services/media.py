"""Writes for media: copy incoming attachments into private storage, retention, agent uploads.

Fonnte keeps an incoming file only ~30 minutes (docs/ARCHITECTURE.md, "Fonnte's protocol"), so the
inbound flow
enqueues `chats.tasks.media.attachment_copy` on commit for every message with an
`attachment_url`, through `config.enqueue.enqueue_on_commit` (a broker outage never fails
the webhook; `attachment_copy_sweep` re-enqueues the copy).

States of `Message.attachment_state`: blank (no attachment, or copy pending) → `stored`, or
`unavailable` with `attachment_error` saying why; `stored` → `deleted` by retention.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import httpx
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..media import (
    OUTGOING_PREFIX,
    SNIFF_BYTES,
    UnsafeURL,
    content_type_for,
    extension_of,
    outgoing_attachment_validate,
    safe_file_name,
    url_check_fetchable,
)
from ..models import Message

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

logger = logging.getLogger(__name__)

AS = Message.AttachmentState
AE = Message.AttachmentError

MAX_REDIRECTS = 5
CHUNK_SIZE = 64 * 1024
RETENTION_BATCH = 500
INCOMING_PREFIX = "attachments/"


class AttachmentTemporarilyUnavailable(Exception):
    """The download failed in a way that may pass (connection, timeout, 5xx, 429): retry."""


class AttachmentRefused(Exception):
    """The download can never succeed; `code` is a Message.AttachmentError value."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


@dataclass(frozen=True)
class _Download:
    path: str
    size: int


def _pending_q() -> Q:
    # Only customers' files are copied: an agent's link (outbound) is the gateway's to fetch.
    return Q(direction=Message.Direction.IN, attachment_file="", attachment_state="") & ~Q(
        attachment_url=""
    )


def _needs_copy(message: Message) -> bool:
    return (
        message.direction == Message.Direction.IN
        and bool(message.attachment_url)
        and not message.attachment_file
        and not message.attachment_state
    )


def _download(url: str, *, max_bytes: int) -> _Download:
    """Stream `url` into a temporary file, following at most MAX_REDIRECTS redirects and
    checking every hop's address. Removes the temporary file on any failure."""
    timeout = httpx.Timeout(
        settings.ATTACHMENT_READ_TIMEOUT,
        connect=settings.ATTACHMENT_CONNECT_TIMEOUT,
    )
    deadline = time.monotonic() + settings.ATTACHMENT_DOWNLOAD_DEADLINE
    fd, path = tempfile.mkstemp(prefix="sapa-attachment-")
    try:
        with os.fdopen(fd, "wb") as out, httpx.Client(timeout=timeout) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                try:
                    url_check_fetchable(url)
                except UnsafeURL as exc:
                    raise AttachmentRefused(exc.code, url) from exc
                except (socket.gaierror, UnicodeError) as exc:
                    # A name that does not resolve now may resolve in a minute (DNS hiccup).
                    raise AttachmentTemporarilyUnavailable(f"cannot resolve {url}") from exc
                with client.stream("GET", url) as response:
                    if response.is_redirect:
                        location = response.headers.get("location", "")
                        url = urljoin(url, location)
                        continue
                    _check_status(response)
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise AttachmentRefused(AE.TOO_LARGE, f"declared {declared} bytes")
                    size = 0
                    # Decoded bytes (gzip is undone), so the cap also stops a compression bomb.
                    for chunk in response.iter_bytes(CHUNK_SIZE):
                        size += len(chunk)
                        if size > max_bytes:
                            raise AttachmentRefused(AE.TOO_LARGE, f"more than {max_bytes} bytes")
                        if time.monotonic() > deadline:
                            raise AttachmentTemporarilyUnavailable("download too slow")
                        out.write(chunk)
                    return _Download(path=path, size=size)
            raise AttachmentRefused(AE.HTTP_ERROR, "too many redirects")
    except httpx.TransportError as exc:
        # Connection refused/reset, timeouts, protocol errors: the file may still be there.
        _remove(path)
        raise AttachmentTemporarilyUnavailable(repr(exc)) from exc
    except BaseException:
        _remove(path)
        raise


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if status == 200:
        return
    if status in (401, 403, 404, 410):
        # Fonnte drops files after ~30 minutes; storage links then answer 403/404/410.
        raise AttachmentRefused(AE.EXPIRED, f"HTTP {status}")
    if status in (408, 425, 429) or status >= 500:
        raise AttachmentTemporarilyUnavailable(f"HTTP {status}")
    raise AttachmentRefused(AE.HTTP_ERROR, f"HTTP {status}")


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def attachment_copy_run(*, message_id: int) -> bool:
    """Copy a message's `attachment_url` into private storage (`attachment_file`).

    Idempotent: does nothing (returns False) when the message has no URL, already has a file,
    or was marked unavailable or deleted. Downloads outside any transaction and without a row
    lock; the result is recorded by a conditional update, so two concurrent runs store one file
    (the loser deletes its copy). A refused download (expired/404, too large, private address,
    bad URL, other 4xx) marks the attachment unavailable with the reason and returns False;
    a transient failure raises AttachmentTemporarilyUnavailable for the task to retry.
    Nothing partial is left behind on any failure. Returns True when this run stored the file.
    """
    message = Message.objects.filter(pk=message_id).first()
    if message is None or not _needs_copy(message):
        return False
    try:
        download = _download(message.attachment_url, max_bytes=settings.ATTACHMENT_MAX_BYTES)
    except AttachmentRefused as exc:
        logger.info("attachment of message %s refused: %s", message_id, exc)
        attachment_mark_unavailable(message_id=message_id, reason=exc.code)
        return False
    try:
        name = safe_file_name(message.attachment_name, extension=message.attachment_extension)
        with open(download.path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
            handle.seek(0)
            stored_name = message.attachment_file.field.generate_filename(message, name)
            stored_name = default_storage.save(
                stored_name, File(handle), max_length=message.attachment_file.field.max_length
            )
    finally:
        _remove(download.path)
    try:
        updated = _attachment_record_stored(
            message_id=message_id,
            stored_name=stored_name,
            size=download.size,
            content_type=content_type_for(name=name, head=head),
        )
    except BaseException:
        default_storage.delete(stored_name)
        raise
    if not updated:
        # Another run stored it first, or retention / a refusal got there: keep theirs.
        default_storage.delete(stored_name)
    return updated


@transaction.atomic
def _attachment_record_stored(
    *, message_id: int, stored_name: str, size: int, content_type: str
) -> bool:
    return bool(
        Message.objects.filter(_pending_q(), pk=message_id).update(
            attachment_file=stored_name,
            attachment_state=AS.STORED,
            attachment_error="",
            attachment_size=size,
            attachment_content_type=content_type,
        )
    )


@transaction.atomic
def attachment_mark_unavailable(*, message_id: int, reason: str) -> bool:
    """Record that an incoming attachment cannot be copied, and why (a Message.AttachmentError
    value, translated when shown). Only a pending attachment changes; returns whether it did."""
    if reason not in AE.values:
        raise ValueError(f"unknown attachment error {reason!r}")
    return bool(
        Message.objects.filter(_pending_q(), pk=message_id).update(
            attachment_state=AS.UNAVAILABLE, attachment_error=reason
        )
    )


def attachments_stuck_ids(*, older_than: timedelta, newer_than: timedelta) -> list[int]:
    """Ids of messages whose attachment copy is still pending, created inside the window
    (a lost enqueue, a worker killed mid-download). Read-only; for the sweep."""
    now = timezone.now()
    return list(
        Message.objects.filter(
            _pending_q(), created_at__lt=now - older_than, created_at__gte=now - newer_than
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:RETENTION_BATCH]
    )


@transaction.atomic
def attachments_give_up_older_than(*, age: timedelta) -> int:
    """Mark attachments still pending after `age` unavailable (`unreachable`): the gateway has
    dropped the file long ago, and the UI should stop saying "copying". Returns how many."""
    return Message.objects.filter(_pending_q(), created_at__lt=timezone.now() - age).update(
        attachment_state=AS.UNAVAILABLE, attachment_error=AE.UNREACHABLE
    )


def media_delete_older_than(*, days: int) -> int:
    """Delete the stored attachment files of messages created more than `days` days ago.

    The message rows stay (text, name, size…); `attachment_file` is cleared and the state
    becomes `deleted`, so the UI can say why the file is gone. `days <= 0` deletes nothing
    (keep forever). Each batch clears the references in one transaction and deletes the files
    after it commits: a crash in between leaves an orphan file, never a reference to a missing
    file. Only files under `attachments/` (copies) and `outgoing/` (uploads) are touched: a
    quick-reply template's file stays, and so does a file a newer message still references.
    Uploads under `outgoing/` that no message references (never sent) go by the same age rule.
    Idempotent. Returns how many attachments were removed (message references + orphans).
    """
    if days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(
            Message.objects.filter(_owned_files_q(), created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:RETENTION_BATCH]
        )
        if not ids:
            break
        deleted += _retention_clear_batch(ids=ids)
    deleted += _outgoing_orphans_delete(cutoff=cutoff)
    return deleted


def _owned_files_q() -> Q:
    # Only copies of customer files and agent uploads: a reply made from a quick-reply template
    # may reference the template's own file, which must outlive the message.
    return Q(attachment_file__startswith=INCOMING_PREFIX) | Q(
        attachment_file__startswith=OUTGOING_PREFIX
    )


@transaction.atomic
def _retention_clear_batch(*, ids: list[int]) -> int:
    # Names re-read under the row locks: what we delete is what we unlink.
    names = dict(
        Message.objects.select_for_update()
        .filter(_owned_files_q(), pk__in=ids)
        .values_list("pk", "attachment_file")
    )
    Message.objects.filter(pk__in=names).update(attachment_file="", attachment_state=AS.DELETED)
    # A file still referenced by a newer message (a resent upload) stays.
    still_used = set(
        Message.objects.filter(attachment_file__in=names.values()).values_list(
            "attachment_file", flat=True
        )
    )
    to_delete = sorted(set(names.values()) - still_used)

    def delete_files() -> None:
        for name in to_delete:
            default_storage.delete(name)

    transaction.on_commit(delete_files)
    return len(names)


def _outgoing_orphans_delete(*, cutoff) -> int:
    """Uploads under outgoing/ older than `cutoff` that no message stores (never sent)."""
    deleted = 0
    for name in _storage_walk(OUTGOING_PREFIX.rstrip("/")):
        try:
            modified = default_storage.get_modified_time(name)
        except (FileNotFoundError, NotImplementedError):
            continue
        if modified >= cutoff or Message.objects.filter(attachment_file=name).exists():
            continue
        default_storage.delete(name)
        deleted += 1
    return deleted


def _storage_walk(directory: str):
    try:
        dirs, files = default_storage.listdir(directory)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{directory}/{name}"
    for sub in dirs:
        yield from _storage_walk(f"{directory}/{sub}")


def outgoing_attachment_store(*, uploaded_file: UploadedFile) -> str:
    """Validate an agent's upload (`outgoing_attachment_validate`, raises ValidationError) and
    store it privately under `outgoing/YYYY/MM/` with a safe name. Returns the storage name:
    put it in `Message.attachment_file` and give the gateway `outgoing_file_signed_url(...)`.
    No database write; an upload never referenced by a message is removed by retention."""
    name = outgoing_attachment_validate(uploaded_file=uploaded_file)
    today = timezone.now()
    safe = safe_file_name(name, extension=extension_of(name))
    uploaded_file.seek(0)
    return default_storage.save(
        f"{OUTGOING_PREFIX}{today:%Y/%m}/{safe}",
        uploaded_file,
        max_length=Message._meta.get_field("attachment_file").max_length,
    )
