"""The sandbox gateway's writes: a simulated customer writing, and the simulated gateway
accepting a send. Fonnte-compatible by construction: the customer's message goes through the
sandbox adapter's parser (Fonnte's) and the inbound service, as a real webhook does."""

from __future__ import annotations

import json

from django.db import transaction

from chats.models import Message
from chats.services.inbound import message_receive
from config.enqueue import enqueue_on_commit

from ..gateways import registry
from ..gateways.base import WEBHOOK_INCOMING
from ..models import Device, SandboxMessage


def fonnte_incoming_body(*, device: Device, sandbox_message: SandboxMessage, name: str) -> dict:
    """The body Fonnte would post for this message (PROTOCOLS.md §4.1, with a timestamp)."""
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
        "url": "",
        "type": "text",
        "extension": "",
        "filename": "",
        "pollname": sandbox_message.poll_name,
        "choices": sandbox_message.poll_choices,
        "inboxid": sandbox_message.pk,
        "timestamp": int(sandbox_message.created_at.timestamp()),
        "isgroup": False,
        "isforwarded": False,
    }


@transaction.atomic
def sandbox_customer_write(
    *,
    device: Device,
    customer: str,
    name: str,
    text: str = "",
    poll_name: str = "",
    choices: list[str] | None = None,
) -> Message:
    """The simulated customer sends a message (or a poll vote) to a sandbox device.

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
