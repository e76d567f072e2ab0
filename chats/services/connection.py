"""A device's connection change, as the core answers it (docs/ARCHITECTURE.md "Flows").

Here rather than in devices_app: recording the change also releases the replies that waited
for the device, which are the core's rows, and the base layer imports nothing above it.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from config.logs import bind_ids
from devices_app.gateways.events import ConnectionChange
from devices_app.models import Device
from realtime import publisher as realtime

from ..selectors import device_audience
from .outbound import messages_release_for_device

logger = logging.getLogger(__name__)


@transaction.atomic
def device_connection_apply(*, device: Device, event: ConnectionChange) -> Device:
    """Record a connect / disconnect reported by the gateway.

    Locks the device row. Idempotent and order-safe: an event stamped earlier than the last
    stamped event (a late retry) is ignored, and a repeat changes nothing. Stamps are compared
    only with stamps, never with Sapa's clock: the gateway's clock may run seconds behind ours,
    and an event without a stamp is simply the latest to arrive. On commit, when the status
    changed: `device.status_changed` to staff and to every agent with chats on the device
    (`device_audience`), not only those who log in with it; on a reconnect, the
    replies that waited for the device are enqueued (`messages_release_for_device`).
    """
    bind_ids(device_id=device.pk)
    device = Device.objects.select_for_update().get(pk=device.pk)
    stamp = event.timestamp
    if stamp is not None and device.status_event_at is not None and stamp < device.status_event_at:
        return device
    fields = ["status", "status_reason", "status_changed_at"]
    if stamp is not None and stamp != device.status_event_at:
        device.status_event_at = stamp
        fields.append("status_event_at")
    status = Device.Status.CONNECTED if event.connected else Device.Status.DISCONNECTED
    reason = "" if event.connected else event.reason
    if device.status == status and device.status_reason == reason:
        if "status_event_at" in fields:
            device.save(update_fields=["status_event_at"])
        return device
    device.status = status
    device.status_reason = reason
    device.status_changed_at = stamp or timezone.now()
    device.save(update_fields=fields)
    logger.info("device %s %s%s", device.pk, status, f": {reason}" if reason else "")
    audience = device_audience(device=device)
    realtime.device_status_changed_on_commit(
        device_id=device.pk,
        status=status,
        agent_ids=audience.agent_ids,
        division_ids=audience.division_ids,
    )
    if event.connected:
        # Replies held while the device was away leave now, not at the next sweep.
        messages_release_for_device(device=device)
    return device
