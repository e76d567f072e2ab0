"""Fonnte's device APIs (docs/ARCHITECTURE.md "Fonnte's protocol"): profile, QR, disconnect,
webhook setup, delete with OTP, and the account's device list. Each call answers a
base.OperationResult whose `reason` is Fonnte's own words (`detail` on some endpoints, `reason`
on others)."""

from __future__ import annotations

import json
from typing import Any

from .. import http
from ..base import REASON_UNCONFIRMED_GARBLED, OperationResult, SendResult


def _lower(data: dict[str, Any]) -> dict[str, Any]:
    return {str(key).lower(): value for key, value in data.items()}


def call(*, base_url: str, path: str, token: str, fields: dict[str, Any] | None = None):
    """POST `fields` as JSON to `<base_url>/<path>` with the raw token; the result, and the
    answer's JSON object (lower-case keys) when there is one."""
    response = http.post(
        f"{base_url.rstrip('/')}/{path}", json=fields or {}, headers={"Authorization": token}
    )
    if isinstance(response, SendResult):
        return OperationResult(ok=False, reason=response.reason), {}
    by_status = http.classify_http_status(response.status_code)
    if by_status is not None:
        return OperationResult(ok=False, reason=by_status.reason), {}
    try:
        data = json.loads(response.content)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return OperationResult(ok=False, reason=REASON_UNCONFIRMED_GARBLED), {}
    data = _lower(data)
    flag = data.get("status")
    if flag is True or str(flag).lower() == "true":
        return OperationResult(ok=True, data=data), data
    reason = str(data.get("reason") or data.get("detail") or "").strip()
    return OperationResult(ok=False, reason=reason or "status false", data=data), data


def profile(*, base_url: str, token: str) -> OperationResult:
    """`POST /device`: connection, quota, expiry and package of the token's device."""
    result, data = call(base_url=base_url, path="device", token=token)
    if not result.ok:
        return result
    return OperationResult(
        ok=True,
        data={
            "number": str(data.get("device") or ""),
            "name": str(data.get("name") or ""),
            "connected": str(data.get("device_status") or "").lower() == "connect",
            "quota": str(data.get("quota") or ""),
            "package": str(data.get("package") or ""),
            "expires": str(data.get("expired") or ""),
            "messages": data.get("messages"),
        },
    )


def qr(*, base_url: str, token: str, number: str) -> OperationResult:
    """`POST /qr`: a QR image (base64 PNG) to link the phone; refused when already connected."""
    result, data = call(
        base_url=base_url, path="qr", token=token, fields={"type": "qr", "whatsapp": number}
    )
    if not result.ok:
        return result
    image = str(data.get("url") or "")
    if image and not image.startswith("data:"):
        image = f"data:image/png;base64,{image}"
    return OperationResult(ok=True, data={"qr": image})


def disconnect(*, base_url: str, token: str) -> OperationResult:
    result, _data = call(base_url=base_url, path="disconnect", token=token)
    return result


def update_webhooks(
    *, base_url: str, token: str, name: str, incoming: str, status: str, connect: str
) -> OperationResult:
    """`POST /update-device` with Sapa's three URLs; autoread on (webhooks need it)."""
    result, _data = call(
        base_url=base_url,
        path="update-device",
        token=token,
        fields={
            "name": name,
            "webhook": incoming,
            "webhookstatus": status,
            "webhookconnect": connect,
            "autoread": True,
            "personal": True,
            "group": True,
        },
    )
    return result


def delete(*, base_url: str, token: str, otp: str = "") -> OperationResult:
    """`POST /delete-device`: without `otp` Fonnte sends a code to the account's WhatsApp; with
    it, the device is deleted."""
    result, _data = call(base_url=base_url, path="delete-device", token=token, fields={"otp": otp})
    return result


def get_devices(*, base_url: str, account_token: str) -> OperationResult:
    """`POST /get-devices` with the account token: every device of the account."""
    result, data = call(base_url=base_url, path="get-devices", token=account_token)
    if not result.ok:
        return result
    rows = data.get("data") if isinstance(data.get("data"), list) else []
    devices = [
        {
            "number": str(row.get("device") or ""),
            "name": str(row.get("name") or ""),
            "token": str(row.get("token") or ""),
            "connected": str(row.get("status") or "").lower() == "connect",
            "quota": str(row.get("quota") or ""),
            "package": str(row.get("package") or ""),
        }
        for row in rows
        if isinstance(row, dict)
    ]
    return OperationResult(ok=True, data={"devices": devices})
