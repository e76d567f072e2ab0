"""Gateway webhooks: /hooks/<gateway>/<webhook key>/(incoming|status|connect).

An interface module, above the core (docs/ARCHITECTURE.md "Layers"): check the request, let the
device's gateway adapter parse the body into normalized events, call one core service per
event, answer. The answer is 200 only after the service's transaction committed, so a gateway
that sees anything else retries and nothing is lost; every refusal happens before any write.
Gateways that never retry (ApiWago, wonotify: `keeps_unparsed_webhooks`) would lose a refused
body, so one their adapter cannot parse is kept for staff (UnparsedWebhook) and answered 200.
"""

from __future__ import annotations

import hmac
import logging

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from chats.services.connection import device_connection_apply
from chats.services.inbound import message_receive
from chats.services.status_early import message_status_receive

from .console.services import device_profile_refresh_later
from .gateways import registry
from .gateways.events import ConnectionChange, EventRefused, IncomingMessage, StatusUpdate
from .models import Device
from .services import unparsed_webhook_keep

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


def _refuse(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": reason}, status=status)


def _device_for(gateway: str, key: str) -> Device | None:
    if gateway not in registry.ADAPTERS or not key:
        return None
    device = (
        Device.objects.select_related("division")
        .filter(webhook_key=key, gateway__in=registry.kinds_speaking_like(gateway), is_active=True)
        .first()
    )
    # The lookup finds the row; the comparison that decides is constant-time.
    if device is None or not hmac.compare_digest(device.webhook_key.encode(), key.encode()):
        return None
    return device


def _read_body(request: HttpRequest) -> bytes | None:
    """The body, or None when it is over the limit (checked before reading it all)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return None
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return None
    return body


def _apply(device: Device, event):
    """One normalized event → the core service that records it."""
    if isinstance(event, IncomingMessage):
        return message_receive(device=device, event=event)
    if isinstance(event, StatusUpdate):
        # Kept for later when its message's id is not known yet (chats.services.status_early).
        return message_status_receive(device=device, event=event)
    if isinstance(event, ConnectionChange):
        applied = device_connection_apply(device=device, event=event)
        # The console shows the profile as of the last connection change (quota, expiry).
        device_profile_refresh_later(device=device)
        return applied
    raise TypeError(f"not a gateway event: {event!r}")


@csrf_exempt
def gateway_webhook(request: HttpRequest, gateway: str, key: str, kind: str):
    if request.method != "POST":
        response = _refuse(405, "webhooks accept POST only")
        response["Allow"] = "POST"
        return response
    device = _device_for(gateway, key)
    if device is None:
        return _refuse(404, "unknown webhook key")
    body = _read_body(request)
    if body is None:
        return _refuse(413, f"body over {MAX_BODY_BYTES} bytes")
    adapter = registry.gateway_for(device)
    content_type = request.content_type or ""
    try:
        events = adapter.parse(kind=kind, body=body, content_type=content_type, device=device)
        if len(events) == 1:
            result = _apply(device, events[0])
        else:
            # Several events in one body (a receipt for many ids): all stored, or none and the
            # gateway retries.
            with transaction.atomic():
                results = [_apply(device, event) for event in events]
            result = results[-1] if results else None
    except EventRefused as exc:
        # A ParseError, or the core refusing what it cannot store (chats.services.storable),
        # always before anything was written.
        if adapter.keeps_unparsed_webhooks:
            # This gateway never retries a refusal: keep the body for staff, or it is lost.
            kept = unparsed_webhook_keep(
                device=device, kind=kind, body=body, content_type=content_type, reason=str(exc)
            )
            return JsonResponse({"ok": True, "kept": kept.pk, "error": str(exc)})
        logger.info("refused %s webhook for device %s: %s", kind, device.pk, exc)
        return _refuse(400, str(exc))
    return JsonResponse({"ok": True, "id": getattr(result, "pk", None)})
