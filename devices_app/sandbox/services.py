"""The sandbox gateway's writes: a simulated customer writing, and the simulated gateway
accepting a send. Fonnte-compatible by construction: the customer's message goes through the
sandbox adapter's parser (Fonnte's) and the inbound service, as a real webhook does."""

from __future__ import annotations

import json
import posixpath
import secrets

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chats.media import PREVIEW_IMAGE_EXTENSIONS, safe_file_name
from chats.models import Message
from chats.services.inbound import message_receive
from config.enqueue import enqueue_on_commit

from ..gateways import registry
from ..gateways.base import WEBHOOK_INCOMING
from ..models import Device, SandboxMessage


def _kind(sandbox_message: SandboxMessage) -> str:
    if sandbox_message.location:
        return "location"
    if sandbox_message.url:
        extension = _extension(sandbox_message.filename)
        return "image" if extension in PREVIEW_IMAGE_EXTENSIONS else "document"
    return "text"


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def fonnte_incoming_body(*, device: Device, sandbox_message: SandboxMessage, name: str) -> dict:
    """The body Fonnte would post for this message (docs/ARCHITECTURE.md, "Fonnte's protocol", with
    a timestamp).

    A quoted reply arrives as its text alone: Fonnte's incoming webhook has no field for the
    quoted message, so the sandbox sends none either."""
    return {
        "quick": False,
        "device": device.number,
        "pesan": sandbox_message.text,
        "pengirim": sandbox_message.customer,
        "member": "",
        "message": sandbox_message.text,
        "text": "non-button message",
        "sender": sandbox_message.customer,
        "name": name,
        "location": sandbox_message.location,
        "url": sandbox_message.url,
        "type": _kind(sandbox_message),
        "extension": _extension(sandbox_message.filename) if sandbox_message.url else "",
        "filename": sandbox_message.filename if sandbox_message.url else "",
        "pollname": sandbox_message.poll_name,
        "choices": sandbox_message.poll_choices,
        "inboxid": sandbox_message.pk,
        "timestamp": int(sandbox_message.created_at.timestamp()),
        "isgroup": False,
        "isforwarded": sandbox_message.is_forwarded,
    }


# --- The customer's files: stored by the sandbox, fetched by Sapa as from Fonnte's CDN -----------

FILE_PREFIX = "sandbox/"
FILE_SALT = "sapa.sandbox.file"
# Fonnte keeps a file ~30 minutes; the sandbox keeps the link a day, so the customer page can
# still show the customer's own pictures.
FILE_LINK_MAX_AGE = 24 * 3600
FILE_MAX_BYTES = 16 * 1024 * 1024


def sandbox_file_store(*, uploaded_file: UploadedFile) -> tuple[str, str]:
    """Keep a file the customer sends and give the link the simulated gateway puts in its
    webhook, and the file's name. Raises ValidationError for an empty or oversized file."""
    if not uploaded_file.size:
        raise ValidationError(_("The file is empty."), code="empty_file")
    if uploaded_file.size > FILE_MAX_BYTES:
        raise ValidationError(
            _("The sandbox takes files up to %(max)s MB.") % {"max": FILE_MAX_BYTES // 2**20},
            code="too_large",
        )
    name = safe_file_name(uploaded_file.name or "", default="file")
    folder = f"{FILE_PREFIX}{timezone.now():%Y/%m}/{secrets.token_hex(8)}"
    stored = default_storage.save(f"{folder}/{name}", uploaded_file)
    return sandbox_file_url(stored_name=stored), posixpath.basename(stored)


def sandbox_file_url(*, stored_name: str) -> str:
    signature = signing.TimestampSigner(salt=FILE_SALT).sign_object(stored_name, compress=False)
    path = reverse(
        "sandbox:file", kwargs={"signature": signature, "filename": posixpath.basename(stored_name)}
    )
    return f"{settings.PUBLIC_BASE_URL}{path}"


def sandbox_file_from_signature(*, signature: str) -> str:
    """The stored name a sandbox file link names; Http404 when tampered with, expired, outside
    the sandbox's folder or gone."""
    try:
        stored_name = signing.TimestampSigner(salt=FILE_SALT).unsign_object(
            signature, max_age=FILE_LINK_MAX_AGE
        )
    except signing.BadSignature as exc:
        raise Http404("invalid or expired link") from exc
    if (
        not isinstance(stored_name, str)
        or posixpath.normpath(stored_name) != stored_name
        or not stored_name.startswith(FILE_PREFIX)
        or not default_storage.exists(stored_name)
    ):
        raise Http404("no such file")
    return stored_name


@transaction.atomic
def sandbox_customer_write(
    *,
    device: Device,
    customer: str,
    name: str,
    text: str = "",
    poll_name: str = "",
    choices: list[str] | None = None,
    url: str = "",
    filename: str = "",
    location: str = "",
    quoted: SandboxMessage | None = None,
    forwarded: bool = False,
) -> Message:
    """The simulated customer sends a message to a sandbox device: text, a file (`url` and
    `filename` from `sandbox_file_store`; the text is its caption), a location ("lat,lng"), a
    poll vote, a reply quoting one of the chat's messages, or a forwarded message.

    Stored on the simulated phone and received by Sapa in one transaction, exactly as a Fonnte
    webhook would be (the sandbox message's id is the `inboxid`, so it is idempotent too).
    """
    sandbox_message = SandboxMessage.objects.create(
        device=device,
        customer=customer,
        direction=SandboxMessage.Direction.FROM_CUSTOMER,
        text=text,
        poll_name=poll_name,
        poll_choices=choices or [],
        url=url[:1000],
        filename=filename[:255],
        location=location[:64],
        quoted=quoted,
        is_forwarded=forwarded,
    )
    body = fonnte_incoming_body(device=device, sandbox_message=sandbox_message, name=name)
    (event,) = registry.gateway_for(device).parse(
        kind=WEBHOOK_INCOMING,
        body=json.dumps(body).encode(),
        content_type="application/json",
        device=device,
    )
    return message_receive(device=device, event=event)


@transaction.atomic
def sandbox_send_accept(
    *, device: Device, targets: list[str], fields: dict[str, str]
) -> list[SandboxMessage]:
    """The simulated gateway takes a /send: one delivered message per target.

    On commit: the status callbacks (sent → delivered → read) are scheduled, as Fonnte's
    status webhook would report them.
    """
    from ..tasks import sandbox_status_callback

    choices = [c.strip() for c in fields.get("choices", "").split(",") if c.strip()]
    created = [
        SandboxMessage.objects.create(
            device=device,
            customer=target,
            direction=SandboxMessage.Direction.TO_CUSTOMER,
            text=fields.get("message", ""),
            url=fields.get("url", "")[:1000],
            filename=fields.get("filename", "")[:255],
            location=fields.get("location", "")[:64],
            poll_name=fields.get("pollname", "")[:255],
            poll_choices=choices,
            state="pending",
        )
        for target in targets
    ]
    for message in created:
        enqueue_on_commit(sandbox_status_callback, message.pk, 1)
    return created
