"""The sandbox gateway: a Fonnte-compatible simulator served by Sapa (docs/ARCHITECTURE.md "The
sandbox").

- /sandbox/fonnte/send, /device, /qr answer exactly as Fonnte does (docs/ARCHITECTURE.md, "Fonnte's
protocol"), so the
  outbound code cannot tell it from api.fonnte.com; after a send the sandbox calls Sapa's own
  status webhook (devices_app.tasks).
- /sandbox/ is a page where a person plays a customer of a sandbox device.

On when settings.SANDBOX_ENABLED (the development default); every URL answers 404 otherwise.
"""

from __future__ import annotations

import base64
import hmac
import json
import posixpath
import secrets
from decimal import Decimal, InvalidOperation
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST, require_safe

from chats.media import PREVIEW_IMAGE_EXTENSIONS
from chats.services.connection import device_connection_apply

from ..gateways.events import ConnectionChange
from ..models import Device, SandboxMessage
from ..phone import InvalidNumber, display_number, normalize_number
from .services import (
    sandbox_customer_write,
    sandbox_file_from_signature,
    sandbox_file_store,
    sandbox_send_accept,
)

# A 1×1 PNG: the sandbox has no real WhatsApp session to pair.
QR_PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cfc0f01f0005fe02fe0d"
        "efc6b30000000049454e44ae426082"
    )
).decode()


def sandbox_enabled(view):
    """Outermost on every sandbox view: with the sandbox off, every method answers 404, as if
    the URL did not exist. So the CSRF middleware must not answer 403 first: the wrapper is
    exempt and the views that need the check carry `csrf_protect` themselves."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.SANDBOX_ENABLED:
            raise Http404
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapper)


# --- Fonnte-compatible API --------------------------------------------------------------------


def _request_id() -> int:
    return 1_000_000 + secrets.randbelow(9_000_000)


def _fonnte_failure(reason: str) -> JsonResponse:
    # Fonnte spells the key "Status" on /send failures (docs/ARCHITECTURE.md, "Fonnte's protocol").
    return JsonResponse({"Status": False, "reason": reason, "requestid": _request_id()})


def _device_for_token(request: HttpRequest) -> Device | None:
    header = request.headers.get("Authorization", "")
    tokens = [part.strip().encode() for part in header.split(",") if part.strip()]
    if not tokens:
        return None
    # Tokens are encrypted at rest with a random nonce (devices_app/crypto.py), so SQL cannot
    # match them: compare each sandbox device's token after reading it (a handful of rows).
    for device in Device.objects.filter(gateway=Device.Gateway.SANDBOX, is_active=True):
        stored = device.gateway_token.encode()
        if stored and any(hmac.compare_digest(stored, token) for token in tokens):
            return device
    return None


def _fields(request: HttpRequest) -> dict[str, str]:
    """Fonnte accepts JSON and multipart/form bodies alike."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            str(k): "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in data.items()
        }
    return {key: request.POST.get(key, "") for key in request.POST}


def _targets(raw: str, country_code: str) -> list[str] | None:
    targets = []
    for item in raw.split(","):
        target = item.split("|", 1)[0].strip()
        if not target:
            continue
        if target.endswith("@g.us"):
            targets.append(target)
            continue
        digits = target.replace(" ", "").replace("-", "").lstrip("+")
        if not digits.isdigit():
            return None
        if digits.startswith("0") and country_code != "0":
            digits = country_code + digits[1:]
        if not 8 <= len(digits) <= 15:
            return None
        targets.append(digits)
    return targets or None


@sandbox_enabled
@require_POST
def fonnte_send(request):
    device = _device_for_token(request)
    if device is None:
        return _fonnte_failure("token invalid")
    fields = _fields(request)
    targets = _targets(fields.get("target", ""), fields.get("countryCode", "62") or "62")
    if targets is None:
        return _fonnte_failure("target invalid")
    if len(fields.get("message", "")) > 60_000:
        return _fonnte_failure("input invalid")
    if not any(fields.get(key) for key in ("message", "url", "location", "choices", "file")):
        return _fonnte_failure("input invalid")
    if fields.get("choices"):
        choices = [c for c in fields["choices"].split(",") if c.strip()]
        if not 2 <= len(choices) <= 12:
            return _fonnte_failure("input invalid")
    if device.status == Device.Status.DISCONNECTED and fields.get("connectOnly", "true") != "false":
        return _fonnte_failure("device disconnected")
    messages = sandbox_send_accept(device=device, targets=targets, fields=fields)
    return JsonResponse(
        {
            "detail": "success! message in queue",
            "id": [message.gateway_id for message in messages],
            "process": "pending",
            "requestid": _request_id(),
            "status": True,
            "target": targets,
        }
    )


@sandbox_enabled
@require_POST
def fonnte_device(request):
    device = _device_for_token(request)
    if device is None:
        return JsonResponse({"reason": "token invalid", "status": False})
    return JsonResponse(
        {
            "device": device.number,
            "device_status": "disconnect"
            if device.status == Device.Status.DISCONNECTED
            else "connect",
            "expired": "31 December 2099",
            "messages": SandboxMessage.objects.filter(
                device=device, direction=SandboxMessage.Direction.TO_CUSTOMER
            ).count(),
            "name": device.name,
            "package": "Sandbox",
            "quota": "unlimited",
            "status": True,
        }
    )


@sandbox_enabled
@require_POST
def fonnte_qr(request):
    device = _device_for_token(request)
    if device is None:
        return JsonResponse({"reason": "token invalid", "status": False})
    if device.status != Device.Status.DISCONNECTED:
        return JsonResponse({"reason": "device already connect", "status": False})
    return JsonResponse({"status": True, "url": QR_PNG})


# --- The customer page ----------


def _sandbox_devices():
    return Device.objects.filter(gateway=Device.Gateway.SANDBOX, is_active=True).select_related(
        "division"
    )


def _chat_params(source) -> tuple[Device, str, str] | None:
    try:
        device_id = int(source.get("device", ""))
        number = normalize_number(source.get("number", ""))
    except (ValueError, InvalidNumber):
        return None
    device = _sandbox_devices().filter(pk=device_id).first()
    if device is None:
        return None
    return device, number, source.get("name", "").strip()[:120]


def _chat_url(device: Device, number: str, name: str) -> str:
    query = urlencode({"device": device.pk, "number": number, "name": name})
    return f"{reverse('sandbox:chat')}?{query}"


@sandbox_enabled
@require_GET
def customer_start(request):
    error = ""
    if request.GET.get("number"):
        params = _chat_params(request.GET)
        if params is not None:
            return redirect(_chat_url(*params))
        error = _("Pick a sandbox device and enter a valid phone number, e.g. 0812 3456 7890.")
    return render(
        request,
        "devices_app/sandbox/start.html",
        {"devices": _sandbox_devices(), "error": error, "form": request.GET},
    )


def image_preview_url(message: SandboxMessage) -> str:
    """The attachment link when it is an image Sapa itself serves (an agent's upload, by signed
    link): the customer page previews it like WhatsApp would. Other files stay links (the
    page's CSP loads images from Sapa only)."""
    name = (message.filename or message.url.split("?", 1)[0]).lower()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    served_by_sapa = message.url.startswith(settings.PUBLIC_BASE_URL + "/")
    return message.url if extension in PREVIEW_IMAGE_EXTENSIONS and served_by_sapa else ""


def _quote_param(device: Device, number: str, value) -> SandboxMessage | None:
    """The message of this chat the customer replies to (`quote=<id>`), or None."""
    value = str(value or "").strip()
    if not (value.isascii() and value.isdecimal() and len(value) <= 9):
        return None
    return SandboxMessage.objects.filter(pk=int(value), device=device, customer=number).first()


def _chat_context(
    device: Device, number: str, name: str, *, quote=None, error: str = "", form=None
) -> dict:
    messages = list(
        SandboxMessage.objects.filter(device=device, customer=number)
        .select_related("quoted")
        .order_by("-created_at", "-id")[:200]
    )
    messages.reverse()
    for message in messages:
        message.image_preview_url = image_preview_url(message)
    return {
        "device": device,
        "number": number,
        "display_number": display_number(number),
        "name": name,
        "messages": messages,
        "quote": quote,
        "error": error,
        "form": form or {},
    }


@sandbox_enabled
@require_GET
def customer_chat(request):
    params = _chat_params(request.GET)
    if params is None:
        return redirect("sandbox:start")
    quote = _quote_param(params[0], params[1], request.GET.get("quote"))
    context = _chat_context(*params, quote=quote)
    if request.htmx and request.htmx.target == "sandbox-messages":
        return render(request, "devices_app/sandbox/chat.html#messages", context)
    return render(request, "devices_app/sandbox/chat.html", context)


def _location_param(post) -> str:
    """ "lat,lng" from the location fields (a decimal comma is read as a point), "" when both
    are empty; ValidationError when they are not a place on Earth."""
    raw = [post.get(key, "").strip().replace(",", ".") for key in ("latitude", "longitude")]
    if not any(raw):
        return ""
    try:
        lat, lng = (Decimal(value) for value in raw)
    except InvalidOperation:
        lat = lng = None
    if lat is None or not (lat.is_finite() and lng.is_finite()) or abs(lat) > 90 or abs(lng) > 180:
        raise ValidationError(
            _(
                "Give a latitude (-90 to 90) and a longitude (-180 to 180), "
                "for example -6.2088 and 106.8456."
            )
        )
    return f"{lat.normalize():f},{lng.normalize():f}"


@sandbox_enabled
@require_POST
@csrf_protect
def customer_write(request):
    params = _chat_params(request.POST)
    if params is None:
        raise Http404
    device, number, name = params
    vote_for = request.POST.get("vote_for")
    error = ""
    if vote_for:
        poll = get_object_or_404(
            SandboxMessage, pk=vote_for, device=device, customer=number, direction="out"
        )
        choice = request.POST.get("choice", "")
        if choice in poll.poll_choices:
            sandbox_customer_write(
                device=device,
                customer=number,
                name=name,
                poll_name=poll.poll_name,
                choices=[choice],
            )
    else:
        error = _customer_message(request, device, number, name)
    quote = _quote_param(device, number, request.POST.get("quote")) if error else None
    context = _chat_context(
        device, number, name, quote=quote, error=error, form=request.POST if error else None
    )
    if request.htmx:
        return render(request, "devices_app/sandbox/chat.html#sent", context)
    if error:
        return render(request, "devices_app/sandbox/chat.html", context)
    return redirect(_chat_url(device, number, name))


def _customer_message(request, device: Device, number: str, name: str) -> str:
    """Send what the compose box holds; the reason in words when nothing could be sent."""
    text = request.POST.get("text", "").strip()[:4000]
    upload = request.FILES.get("file")
    try:
        location = _location_param(request.POST)
        if not (text or upload or location):
            raise ValidationError(_("Write a message, or add a file or a location."))
        url, filename = sandbox_file_store(uploaded_file=upload) if upload else ("", "")
    except ValidationError as exc:
        return exc.messages[0]
    sandbox_customer_write(
        device=device,
        customer=number,
        name=name,
        text=text,
        url=url,
        filename=filename,
        location=location,
        quoted=_quote_param(device, number, request.POST.get("quote")),
        forwarded=request.POST.get("forwarded") == "on",
    )
    return ""


@sandbox_enabled
@require_safe
def customer_file(request, signature: str, filename: str):
    """A file the simulated customer sent, fetched by Sapa as from the gateway's file link."""
    stored_name = sandbox_file_from_signature(signature=signature)
    if filename != posixpath.basename(stored_name):
        raise Http404
    response = FileResponse(
        default_storage.open(stored_name, "rb"), as_attachment=False, filename=filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@sandbox_enabled
@require_POST
@csrf_protect
def device_connection(request, device_id: int):
    """Simulate the gateway's connect/disconnect webhook for a sandbox device."""
    device = get_object_or_404(_sandbox_devices(), pk=device_id)
    connected = request.POST.get("action") == "connect"
    device_connection_apply(
        device=device,
        event=ConnectionChange(
            connected=connected, reason="" if connected else _("Disconnected in the sandbox")
        ),
    )
    return redirect("sandbox:start")
