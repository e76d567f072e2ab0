"""What staff can do to a device from its console (docs/ARCHITECTURE.md "The device console").

Each function asks the device's gateway adapter for one operation (outside any transaction:
gateway calls are network I/O), records what the answer proves, and returns an `Answer` whose
`message` is in words for the page. Only operations the adapter's capabilities offer are run;
the others answer NOT_SUPPORTED in words.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from chats.services.connection import device_connection_apply
from config.enqueue import enqueue_on_commit
from realtime import publisher as realtime

from ..gateways import registry
from ..gateways.base import (
    REASON_NOT_SUPPORTED,
    WEBHOOK_CONNECT,
    WEBHOOK_INCOMING,
    WEBHOOK_STATUS,
    GatewayAdapter,
    OperationResult,
    WebhookUrls,
)
from ..gateways.events import ConnectionChange
from ..models import Device
from ..phone import InvalidNumber, normalize_number
from .facts import facts_for


@dataclass(frozen=True)
class Answer:
    ok: bool
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)


# Operation name → (capability, button label). The page offers those the gateway has, in this
# order (docs/ARCHITECTURE.md "Capabilities").
OPERATIONS = {
    "profile": ("profile", _("Refresh profile")),
    "qr": ("qr", _("Connect by QR")),
    "pairing": ("pairing_code", _("Connect with a pairing code")),
    "start": ("connect", _("Start session")),
    "reconnect": ("reconnect", _("Reconnect")),
    "logout": ("logout", _("Disconnect")),
    "webhooks": ("webhook_setup", _("Configure webhooks")),
    "delete": ("delete", _("Delete at the gateway")),
}


def operations_for(device: Device) -> list[tuple[str, str]]:
    caps = registry.capabilities_for(device)
    return [(name, label) for name, (cap, label) in OPERATIONS.items() if getattr(caps, cap)]


# Operations that make no sense in a state: connecting a connected device, disconnecting a
# disconnected one. (An unknown state offers everything.)
NOT_WHEN = {
    Device.Status.CONNECTED: {"qr", "pairing", "start"},
    Device.Status.DISCONNECTED: {"logout"},
}


def operations_fitting(device: Device) -> list[tuple[str, str]]:
    """The offered operations that fit the device's connection now (the buttons shown)."""
    hidden = NOT_WHEN.get(device.status, set())
    return [(name, label) for name, label in operations_for(device) if name not in hidden]


def offers(device: Device, operation: str) -> bool:
    return any(name == operation for name, _label in operations_for(device))


# --- Words --------------------------------------------------------------------------------------


def reason_words(adapter: GatewayAdapter, reason: str) -> str:
    """A gateway's refusal in plain words: Sapa's own reasons translated; a gateway's documented
    reason explained, with its own word after it; anything else quoted as the gateway said it."""
    if registry.reason_is_own(reason):
        return gettext(reason)
    explained = adapter.reason_text(reason)
    if explained:
        return f"{explained} ({reason})"
    return gettext("%(gateway)s answered: “%(reason)s”.") % {
        "gateway": adapter.label,
        "reason": reason or gettext("no reason given"),
    }


def _failed(adapter: GatewayAdapter, result: OperationResult) -> Answer:
    return Answer(ok=False, message=reason_words(adapter, result.reason), data=result.data)


def _not_offered(device: Device) -> Answer:
    return Answer(ok=False, message=gettext(REASON_NOT_SUPPORTED))


# --- Webhook URLs -------------------------------------------------------------------------------


def webhook_urls(device: Device) -> WebhookUrls:
    base = f"{settings.PUBLIC_BASE_URL}/hooks/{device.gateway}/{device.webhook_key}"
    return WebhookUrls(
        incoming=f"{base}/{WEBHOOK_INCOMING}",
        status=f"{base}/{WEBHOOK_STATUS}",
        connect=f"{base}/{WEBHOOK_CONNECT}",
    )


WEBHOOK_LABELS = {
    WEBHOOK_INCOMING: _("Incoming messages"),
    WEBHOOK_STATUS: _("Message status"),
    WEBHOOK_CONNECT: _("Connection"),
}


def webhook_rows(device: Device) -> list[dict[str, str]]:
    """Each URL with what it carries and the exact gateway field it belongs in. A gateway that
    takes fewer URLs (one for everything) lists only those."""
    urls = webhook_urls(device)
    fields = facts_for(device.gateway).webhook_fields
    kinds = [kind for kind in WEBHOOK_LABELS if kind in fields] if fields else list(WEBHOOK_LABELS)
    return [
        {
            "kind": kind,
            "label": WEBHOOK_LABELS[kind],
            "url": getattr(urls, kind),
            "field": fields.get(kind, ("", ""))[0],
            "where": fields.get(kind, ("", ""))[1],
        }
        for kind in kinds
    ]


def public_url_problem() -> str:
    """Why a gateway on the internet cannot call PUBLIC_BASE_URL, or "" when it can."""
    url = urlsplit(settings.PUBLIC_BASE_URL)
    host = url.hostname or ""
    private = host in {"localhost", ""} or host.endswith((".local", ".localhost", ".internal"))
    try:
        address = ipaddress.ip_address(host)
        private = private or not address.is_global
    except ValueError:
        pass
    if private:
        return gettext(
            "PUBLIC_BASE_URL is %(url)s, an address only this machine or its network can reach: "
            "the gateway cannot call these webhooks. Set PUBLIC_BASE_URL to Sapa's public https "
            "address (for example https://sapa.example.com, or a tunnel's address while testing) "
            "and restart Sapa."
        ) % {"url": settings.PUBLIC_BASE_URL}
    if url.scheme != "https":
        return gettext(
            "PUBLIC_BASE_URL is %(url)s, plain http: gateways require https webhooks, and the "
            "messages would travel unencrypted. Serve Sapa over https and set PUBLIC_BASE_URL "
            "to the https address, then restart Sapa."
        ) % {"url": settings.PUBLIC_BASE_URL}
    return ""


# --- Profile (cached: the gateway rate-limits it) ----------------------------------------------


def device_profile_refresh_later(*, device: Device) -> None:
    """Read the profile in the background once the current transaction commits (after a connect
    webhook). An enqueue that fails is logged, not raised: the webhook is stored already."""
    from ..tasks import device_profile_refresh as task

    if registry.gateway_for(device).capabilities.profile:
        enqueue_on_commit(task, device.pk, timezone.now().timestamp())


def profile_is_fresh(device: Device, max_age: float | None = None) -> bool:
    age = settings.GATEWAY_PROFILE_MAX_AGE if max_age is None else max_age
    checked = device.profile_checked_at
    return checked is not None and timezone.now() - checked < timedelta(seconds=age)


def _connection_record(device: Device, *, connected: bool, reason: str = "") -> None:
    """A state the gateway just proved (a profile, a QR refused as already connected): recorded
    through the core service, which alerts agents and releases waiting replies."""
    status = Device.Status.CONNECTED if connected else Device.Status.DISCONNECTED
    if device.status == status:
        return
    device_connection_apply(
        device=device,
        event=ConnectionChange(connected=connected, reason=reason, timestamp=timezone.now()),
    )


def _staff_refresh_on_commit(device: Device) -> None:
    # The console cards listen on the staff socket: the same event a connection change sends
    # makes them re-read the device (quota, package, expiry).
    event: realtime.DeviceStatusChanged = {
        "type": "device.status_changed",
        "device_id": device.pk,
        "status": device.status,
    }
    realtime.publish_on_commit(realtime.STAFF_GROUP, event)


def device_profile_refresh(*, device: Device, max_age: float | None = None) -> Answer:
    """Read the profile from the gateway unless the one on the row is younger than `max_age`
    seconds (GATEWAY_PROFILE_MAX_AGE by default); store quota, package and expiry, and record
    the connection it reports."""
    adapter = registry.gateway_for(device)
    if not adapter.capabilities.profile:
        return _not_offered(device)
    if profile_is_fresh(device, max_age):
        return Answer(
            ok=True,
            message=gettext(
                "Shown as read %(when)s: the gateway limits how often its profile may be asked."
            )
            % {"when": timezone.localtime(device.profile_checked_at).strftime("%H:%M:%S")},
            data={"cached": True},
        )
    result = adapter.device_profile(device=device)
    if not result.ok:
        return _failed(adapter, result)
    data = result.data
    with transaction.atomic():
        Device.objects.filter(pk=device.pk).update(
            quota=str(data.get("quota") or "")[:40],
            package=str(data.get("package") or "")[:40],
            expires=str(data.get("expires") or "")[:40],
            profile_checked_at=timezone.now(),
        )
        device.refresh_from_db()
        if isinstance(data.get("connected"), bool):
            _connection_record(device, connected=data["connected"])
            device.refresh_from_db()
        _staff_refresh_on_commit(device)
    return Answer(ok=True, message=gettext("Profile read from the gateway."), data=data)


# --- Connecting ---------------------------------------------------------------------------------


def device_qr_get(*, device: Device) -> Answer:
    """A QR image to scan (data["qr"], a data URL), or data["connected"] when the gateway says
    the device is connected already (recorded)."""
    adapter = registry.gateway_for(device)
    if not adapter.capabilities.qr:
        return _not_offered(device)
    result = adapter.device_qr(device=device)
    if result.ok and result.data.get("qr"):
        return Answer(ok=True, data={"qr": result.data["qr"]})
    if result.ok or _says_connected(adapter, result.reason):
        _connection_record(device, connected=True)
        return Answer(
            ok=True, message=gettext("The device is connected."), data={"connected": True}
        )
    return _failed(adapter, result)


def _says_connected(adapter: GatewayAdapter, reason: str) -> bool:
    lowered = reason.strip().lower()
    return lowered.startswith("device already connect") or "already logged in" in lowered


def device_pairing_code_get(*, device: Device, phone: str) -> Answer:
    adapter = registry.gateway_for(device)
    if not adapter.capabilities.pairing_code:
        return _not_offered(device)
    try:
        number = normalize_number(phone) if phone.strip() else device.number
    except InvalidNumber:
        return Answer(ok=False, message=gettext("Enter a valid WhatsApp number."))
    result = adapter.device_pairing_code(device=device, phone=number)
    if not result.ok:
        return _failed(adapter, result)
    return Answer(ok=True, data={"code": str(result.data.get("code") or "")})


def device_session_start(*, device: Device) -> Answer:
    return _simple(device, "connect", gettext("Session started: connect it by QR or code."))


def device_reconnect(*, device: Device) -> Answer:
    return _simple(device, "reconnect", gettext("The gateway is reconnecting the device."))


def device_logout(*, device: Device) -> Answer:
    adapter = registry.gateway_for(device)
    if not adapter.capabilities.logout:
        return _not_offered(device)
    result = adapter.device_logout(device=device)
    if not result.ok and result.reason.strip().lower() != "device already disconnected":
        return _failed(adapter, result)
    _connection_record(device, connected=False)
    if not result.ok:
        return Answer(ok=True, message=reason_words(adapter, result.reason))
    return Answer(ok=True, message=gettext("The device was disconnected from WhatsApp."))


def _simple(device: Device, capability: str, success: str) -> Answer:
    adapter = registry.gateway_for(device)
    if not getattr(adapter.capabilities, capability):
        return _not_offered(device)
    method = {"connect": adapter.device_connect, "reconnect": adapter.device_reconnect}
    result = method[capability](device=device)
    return Answer(ok=True, message=success) if result.ok else _failed(adapter, result)


# --- Webhooks -----------------------------------------------------------------------------------


def device_webhooks_configure(*, device: Device) -> Answer:
    """Give the gateway Sapa's webhook URLs (Fonnte: update-device with autoread on)."""
    adapter = registry.gateway_for(device)
    if not adapter.capabilities.webhook_setup:
        return _not_offered(device)
    problem = public_url_problem()
    result = adapter.device_set_webhooks(device=device, urls=webhook_urls(device))
    if not result.ok:
        message = reason_words(adapter, result.reason)
        if problem:
            message = f"{message} {problem}"
        return Answer(ok=False, message=message)
    message = gettext("The gateway now calls Sapa's webhook URLs.")
    if problem:
        message = f"{message} {problem}"
    return Answer(ok=True, message=message, data={"warning": bool(problem)})


# --- Delete -------------------------------------------------------------------------------------


def device_delete_code_request(*, device: Device) -> Answer:
    """Step one of a two-step delete (Fonnte): the gateway sends a code to the account's
    WhatsApp."""
    adapter = registry.gateway_for(device)
    if not adapter.capabilities.delete or not facts_for(device.gateway).delete_needs_code:
        return _not_offered(device)
    result = adapter.device_delete(device=device, otp="")
    if not result.ok:
        return _failed(adapter, result)
    return Answer(
        ok=True,
        message=gettext(
            "%(gateway)s sent a code to the WhatsApp number of the account owner. Enter it to "
            "delete the device."
        )
        % {"gateway": adapter.label},
        data={"code_sent": True},
    )


def device_delete_confirm(*, device: Device, otp: str = "") -> Answer:
    """Delete the device at the gateway (with the code when it takes one). Sapa keeps the device
    and its chats, deactivated and without its token: the history stays readable."""
    adapter = registry.gateway_for(device)
    if not adapter.capabilities.delete:
        return _not_offered(device)
    otp = otp.strip()
    if facts_for(device.gateway).delete_needs_code and not otp:
        return Answer(ok=False, message=gettext("Enter the code the gateway sent."))
    result = adapter.device_delete(device=device, otp=otp)
    if not result.ok:
        return _failed(adapter, result)
    with transaction.atomic():
        _connection_record(device, connected=False)
        device.refresh_from_db()
        device.is_active = False
        device.gateway_token = ""
        device.save(update_fields=["is_active", "gateway_token"])
        _staff_refresh_on_commit(device)
    return Answer(
        ok=True,
        message=gettext(
            "The device was deleted at the gateway. Sapa keeps it, deactivated, with its chats."
        ),
        data={"deleted": True},
    )


# --- Tokens and the account's devices -----------------------------------------------------------


def gateway_token_refusal(*, gateway: str, token: str, number: str, name: str) -> str:
    """Why the gateway refuses `token` for `number`, in words, or "" when it accepts it (or has
    no profile to check it against). Used when a device is saved."""
    adapter = registry.gateway_named(gateway)
    if not token or not adapter.capabilities.profile:
        return ""
    if not facts_for(gateway).token_issued_by_gateway:
        return ""
    probe = Device(gateway=gateway, gateway_token=token, number=number, name=name)
    result = adapter.device_profile(device=probe)
    if not result.ok:
        if registry.reason_is_own(result.reason):
            # Sapa's own words: the gateway never judged the token (unreachable, garbled…).
            return gettext("The token could not be checked: %(reason)s") % {
                "reason": reason_words(adapter, result.reason)
            }
        return gettext("The gateway refused this token: %(reason)s") % {
            "reason": reason_words(adapter, result.reason)
        }
    reported = str(result.data.get("number") or "")
    if reported and number and reported != number:
        return gettext(
            "This token belongs to the gateway's device %(reported)s, not to %(number)s."
        ) % {"reported": reported, "number": number}
    return ""


def _number_of(row: dict[str, Any]) -> str:
    raw = str(row.get("number") or row.get("jid") or "").split("@")[0].split(":")[0]
    try:
        return normalize_number(raw)
    except InvalidNumber:
        return ""


def account_devices_list(*, gateway: str, account_token: str) -> Answer:
    """The devices of the gateway account (data["devices"]: number, name, connected, package,
    quota, and `in_sapa` when a device with that number exists). Tokens stay out of it."""
    adapter = registry.gateway_named(gateway)
    if not adapter.capabilities.device_list:
        return Answer(ok=False, message=gettext(REASON_NOT_SUPPORTED))
    result = adapter.devices_list(account_token=account_token)
    if not result.ok:
        return _failed(adapter, result)
    rows = []
    for row in result.data.get("devices") or []:
        number = _number_of(row)
        if not number or not row.get("token"):
            continue
        rows.append(
            {
                "number": number,
                "name": str(row.get("name") or "")[:80] or number,
                "connected": row.get("connected"),
                "package": str(row.get("package") or ""),
                "quota": str(row.get("quota") or ""),
                "token": str(row["token"]),
            }
        )
    existing = set(
        Device.objects.filter(number__in=[r["number"] for r in rows]).values_list(
            "number", flat=True
        )
    )
    for row in rows:
        row["in_sapa"] = row["number"] in existing
    return Answer(ok=True, data={"devices": rows})


def account_devices_import(
    *, gateway: str, account_token: str, numbers: list[str], division
) -> Answer:
    """Create a Sapa device for each chosen number of the account, with its device token as the
    gateway lists it now (never taken from the browser). Numbers Sapa has already are skipped."""
    listed = account_devices_list(gateway=gateway, account_token=account_token)
    if not listed.ok:
        return listed
    chosen = [r for r in listed.data["devices"] if r["number"] in set(numbers) and not r["in_sapa"]]
    if not chosen:
        return Answer(
            ok=False,
            message=gettext("Choose at least one device that Sapa does not have yet."),
            data=listed.data,
        )
    with transaction.atomic():
        created = [
            Device.objects.create(
                number=row["number"],
                name=row["name"],
                gateway=gateway,
                gateway_token=row["token"],
                division=division,
                quota=row["quota"][:40],
                package=row["package"][:40],
                status=(
                    Device.Status.CONNECTED
                    if row["connected"] is True
                    else Device.Status.DISCONNECTED
                    if row["connected"] is False
                    else Device.Status.UNKNOWN
                ),
            )
            for row in chosen
        ]
    return Answer(
        ok=True,
        message=ngettext("Imported %(count)d device.", "Imported %(count)d devices.", len(created))
        % {"count": len(created)},
        data={"created": created},
    )
