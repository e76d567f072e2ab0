"""Gateway webhooks: /hooks/<gateway>/<webhook key>/(incoming|status|connect).

Interfaces only: check the request, parse the body into a normalized event, call one service,
answer. The answer is 200 only after the service's transaction committed, so a gateway that
sees anything else retries and nothing is lost; every refusal happens before any write.
"""

from __future__ import annotations

import hmac
import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from chats.services.connection import device_connection_apply
from chats.services.inbound import message_receive, message_status_apply

from .gateways.fonnte import webhooks as fonnte
from .models import Device

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# Sandbox devices speak Fonnte's protocol (devices_app.sandbox).
FONNTE_COMPATIBLE = (Device.Gateway.FONNTE, Device.Gateway.SANDBOX)
GATEWAY_KINDS = {"fonnte": FONNTE_COMPATIBLE, "sandbox": FONNTE_COMPATIBLE}


def _refuse(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": reason}, status=status)


def _device_for(gateway: str, key: str) -> Device | None:
    kinds = GATEWAY_KINDS.get(gateway)
    if kinds is None or not key:
        return None
    device = (
        Device.objects.select_related("division")
        .filter(webhook_key=key, gateway__in=kinds, is_active=True)
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


HANDLERS = {
    "incoming": (
        fonnte.parse_incoming,
        lambda device, event: message_receive(device=device, event=event),
    ),
    "status": (
        fonnte.parse_status,
        lambda device, event: message_status_apply(device=device, event=event),
    ),
    "connect": (
        fonnte.parse_connection,
        lambda device, event: device_connection_apply(device=device, event=event),
    ),
}


@csrf_exempt
def fonnte_webhook(request: HttpRequest, gateway: str, key: str, kind: str):
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
    parse, apply = HANDLERS[kind]
    try:
        data = fonnte.load_body(body, request.content_type or "")
        fonnte.check_device(data, device.number)
        event = parse(data)
    except fonnte.ParseError as exc:
        logger.info("refused %s webhook for device %s: %s", kind, device.pk, exc)
        return _refuse(400, str(exc))
    result = apply(device, event)
    return JsonResponse({"ok": True, "id": getattr(result, "pk", None)})
