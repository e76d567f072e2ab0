"""Delivery updates that arrive before the message they name is known: kept, applied later.

Fonnte may call the status webhook while Sapa is still waiting for its answer to /send (the
answer carries the message id), and the stateid-only "read" that follows names a state id
Sapa learns only from the id + stateid update (docs/ARCHITECTURE.md, "Fonnte's protocol").
Answering 200 and dropping
such an update loses the tick for good, so the webhook keeps it (`EarlyStatusUpdate`) and it is
applied when the id arrives: when the send is recorded (`early_status_replay`, called by
`chats.services.outbound`), or when an id + stateid update teaches the state id.

Race: the send's record and the webhook's keep run in separate transactions; each side looks
for the other once more after its own commit, so whichever commits last sees both.
See docs/RELIABILITY.md "Webhooks that cannot be lost".
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from devices_app.gateways.events import StatusUpdate
from devices_app.models import Device

from ..models import EarlyStatusUpdate, Message
from .inbound import message_status_apply
from .storable import raw_storable

# Fonnte reports a message's fate within minutes; an update nobody claims in a day never will be.
KEEP_FOR = timedelta(days=1)


def _event(row: EarlyStatusUpdate) -> StatusUpdate:
    return StatusUpdate(
        message_id=row.message_id,
        state_id=row.state_id,
        status=row.status,
        state=row.state,
        delivery=row.delivery,
        failure_reason=row.failure_reason,
        raw=row.raw,
    )


def _replay_on_commit(*, device: Device, message_ids=(), state_ids=()) -> None:
    transaction.on_commit(
        lambda: early_status_replay(
            device=device, message_ids=list(message_ids), state_ids=list(state_ids)
        )
    )


@transaction.atomic
def message_status_receive(*, device: Device, event: StatusUpdate) -> Message | None:
    """Apply a status webhook, or keep it when its message is not known yet.

    Returns the message it applied to, or None when the update was kept for later. An id +
    stateid update also applies the stateid-only updates that were waiting for that state id.
    Idempotent in effect: statuses only move forward (`message_status_apply`).
    """
    message = message_status_apply(device=device, event=event)
    if message is None:
        EarlyStatusUpdate.objects.create(
            device=device,
            message_id=event.message_id,
            state_id=event.state_id,
            status=event.status,
            state=event.state,
            delivery=event.delivery,
            failure_reason=event.failure_reason[:255],
            raw=raw_storable(event.raw),
        )
        EarlyStatusUpdate.objects.filter(received_at__lt=timezone.now() - KEEP_FOR).delete()
        ids = [event.message_id] if event.message_id else []
        states = [] if event.message_id else [event.state_id]
        _replay_on_commit(device=device, message_ids=ids, state_ids=states)
        return None
    if event.message_id and event.state_id:
        early_status_replay(device=device, state_ids=[event.state_id])
        _replay_on_commit(device=device, state_ids=[event.state_id])
    return message


@transaction.atomic
def early_status_replay(
    *, device: Device, message_ids: list[str] = (), state_ids: list[str] = ()
) -> int:
    """Apply the kept updates naming these gateway ids whose message is now known; returns
    how many applied. Locks the kept rows (skipped by a concurrent replay that got there first
    on PostgreSQL: it deletes what it applied)."""
    message_ids = [value for value in message_ids if value]
    state_ids = {value for value in state_ids if value}
    if not message_ids and not state_ids:
        return 0
    applied = 0
    if message_ids:
        for row in EarlyStatusUpdate.objects.select_for_update().filter(
            device=device, message_id__in=message_ids
        ):
            if message_status_apply(device=device, event=_event(row)) is not None:
                row.delete()
                applied += 1
        # An update with both ids has just taught the state id its stateid-only followers use.
        state_ids |= set(
            Message.objects.filter(device=device, gateway_message_id__in=message_ids)
            .exclude(gateway_state_id="")
            .values_list("gateway_state_id", flat=True)
        )
    if state_ids:
        for row in EarlyStatusUpdate.objects.select_for_update().filter(
            Q(message_id=""), device=device, state_id__in=state_ids
        ):
            if message_status_apply(device=device, event=_event(row)) is not None:
                row.delete()
                applied += 1
    return applied
