"""ApiWago's HTTP API (the self-hosted `tokalink/apigowa`): sends and device operations.

Protocol facts (docs/ARCHITECTURE.md "ApiWago's protocol", from the gateway's handlers):
- every protected call carries the header `apikey: <APIKEY of the server>`; a wrong key answers
  401 `{"error": "unauthorized"}`. `/api/pair` is unprotected (the key is sent anyway).
- `token` is the session key Sapa keeps as the device's gateway token.
- errors are `{"error": "<text>"}` with 400/403/500, except `/api/send`, which answers
  `{"status": false, "message": "<text>"}` with 500, and a number that is not on WhatsApp with
  HTTP 200 `{"status": false, "message": "Belum Terdaftar", …}`.

Send answers are classified as the delivery semantics need (docs/ARCHITECTURE.md "Delivery
semantics"): the gateway answers 500 both for errors raised before anything left (not logged in, the
attachment could not be fetched, a malformed number) and for WhatsApp refusing or timing out a
send that may have gone out. Only the first kind, recognised by its words, is safe to repeat;
any other 500 is an unknown outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from django.utils.translation import gettext_noop

from .. import wa_message
from ..base import (
    REASON_BAD_GATEWAY_URL,
    REASON_HTTP_ERROR,
    REASON_UNCONFIRMED_GARBLED,
    OperationResult,
    SendResult,
)
from ..http import PROXY_UNKNOWN_STATUSES
from ..json_api import (
    REASON_GARBLED,
    Answer,
    TransportFailure,
    call,
)

# The gateway's own words for "this number has no WhatsApp account" (HTTP 200, status false).
NOT_REGISTERED_WORDS = "belum terdaftar"

REASON_NOT_CONFIGURED = gettext_noop(
    "ApiWago's address is not set: set APIWAGO_API_URL and APIWAGO_API_KEY."
)
REASON_NOT_ON_WHATSAPP = gettext_noop("The number is not on WhatsApp.")
REASON_UNAUTHORIZED = gettext_noop("The gateway refused Sapa's API key.")
REASON_NOT_LOGGED_IN = gettext_noop("The device is not logged in to WhatsApp on the gateway.")
REASON_MEDIA_UNREACHABLE = gettext_noop("The gateway could not fetch the attachment.")
REASON_BAD_NUMBER = gettext_noop("The gateway refused the customer's number.")
REASON_BAD_ATTACHMENT = gettext_noop("The gateway could not read the attachment.")
REASON_QR_NOT_READY = gettext_noop("The QR code is not ready yet; try again in a moment.")
REASON_SESSION_NOT_STARTED = gettext_noop("The session is not started on the gateway.")
REASON_ALREADY_LOGGED_IN = gettext_noop("The device is already logged in.")
REASON_NOT_LOGGED_IN_LOGOUT = gettext_noop("The device is not logged in.")

# `/api/qrcode` answers 500 with these while there is no QR to show (not errors as such).
QR_STATES = {"waiting_for_qr": REASON_QR_NOT_READY, "not_connected": REASON_SESSION_NOT_STARTED}

# Error words from the gateway's send path (internal/whatsapp/client.go) raised *before* the
# message reached WhatsApp, lower-cased prefixes → (reason, permanent).
_BEFORE_SEND_ERRORS: tuple[tuple[str, str, bool], ...] = (
    ("client not logged in", REASON_NOT_LOGGED_IN, False),
    ("failed to get device", "", False),
    ("failed to download media", REASON_MEDIA_UNREACHABLE, False),
    ("failed to read media body", REASON_MEDIA_UNREACHABLE, False),
    ("failed to upload ", "", False),
    ("phone number is empty or invalid", REASON_BAD_NUMBER, True),
    ("phone number too short", REASON_BAD_NUMBER, True),
    ("invalid recipient jid", REASON_BAD_NUMBER, True),
    ("failed to decode base64 data uri", REASON_BAD_ATTACHMENT, True),
    ("invalid data uri format", REASON_BAD_ATTACHMENT, True),
    ("user not registered on whatsapp", REASON_NOT_ON_WHATSAPP, True),
)

# Everything Sapa may write as a reason for this gateway: the page translates these.
REASONS = (
    REASON_NOT_CONFIGURED,
    REASON_NOT_ON_WHATSAPP,
    REASON_UNAUTHORIZED,
    REASON_NOT_LOGGED_IN,
    REASON_MEDIA_UNREACHABLE,
    REASON_BAD_NUMBER,
    REASON_BAD_ATTACHMENT,
    REASON_QR_NOT_READY,
    REASON_SESSION_NOT_STARTED,
    REASON_ALREADY_LOGGED_IN,
    REASON_NOT_LOGGED_IN_LOGOUT,
)


def _error_text(answer: Answer) -> str:
    data = answer.data
    if isinstance(data, dict):
        for key in ("error", "message"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return answer.text


def _words_or(words: str, fallback: str) -> str:
    """The gateway's own words as the reason (base.SendResult), or Sapa's when it said none."""
    return words[:255] if words else fallback


def classify_send(reply: Answer | TransportFailure) -> SendResult:
    """The outcome of `/api/send` or `/api/send-poll`. Pure: tested on its own."""
    if isinstance(reply, TransportFailure):
        return reply.send_result()

    status, data = reply.status_code, reply.data
    if 300 <= status < 400 or status == 404:
        # Redirects are not followed (a POST would lose its body) and a 404 is Gin's "page not
        # found": either way the configured address is wrong and nothing was sent.
        return SendResult(
            ok=False,
            reason=REASON_BAD_GATEWAY_URL,
            permanent=True,
            certainly_not_sent=True,
            http_status=status,
        )
    if status == 401:
        return SendResult(
            ok=False,
            reason=REASON_UNAUTHORIZED,
            permanent=True,
            certainly_not_sent=True,
            http_status=status,
        )
    if 400 <= status < 500 and status != 429:
        # Our request is wrong ("token is required", a JSON bind error, a licence limit).
        return SendResult(
            ok=False,
            reason=_words_or(_error_text(reply), REASON_HTTP_ERROR),
            permanent=True,
            certainly_not_sent=True,
            http_status=status,
        )
    if status in PROXY_UNKNOWN_STATUSES:
        return SendResult(ok=False, reason=f"HTTP {status}", http_status=status)
    if status == 500:
        return _classify_error_words(_error_text(reply) if data else "", status)
    if status == 429 or status >= 500:
        # A proxy or the server refused before handling it (503 overloaded, 429 throttled).
        return SendResult(
            ok=False, reason=f"HTTP {status}", certainly_not_sent=True, http_status=status
        )

    if not isinstance(data, dict) or not isinstance(data.get("status"), bool):
        return SendResult(ok=False, reason=REASON_UNCONFIRMED_GARBLED, http_status=status)
    if data["status"]:
        inner = data.get("data")
        message_id = inner.get("id") if isinstance(inner, dict) else None
        return SendResult(
            ok=True,
            message_ids=[wa_message.message_id(message_id)] if message_id else [],
            http_status=status,
            detail=str(data.get("message") or ""),
        )
    words = str(data.get("message") or data.get("error") or "").strip()
    if words.lower() == NOT_REGISTERED_WORDS:
        return SendResult(
            ok=False,
            reason=REASON_NOT_ON_WHATSAPP,
            permanent=True,
            certainly_not_sent=True,
            http_status=status,
            detail=words,
        )
    # A 200 refusal we do not know: answered, so nothing was sent; not known to be hopeless.
    return SendResult(
        ok=False,
        reason=_words_or(words, REASON_HTTP_ERROR),
        certainly_not_sent=True,
        http_status=status,
    )


def _classify_error_words(words: str, status: int) -> SendResult:
    lowered = words.lower()
    for prefix, reason, permanent in _BEFORE_SEND_ERRORS:
        if lowered.startswith(prefix):
            return SendResult(
                ok=False,
                reason=reason or words[:255],
                permanent=permanent,
                certainly_not_sent=True,
                http_status=status,
                detail=words[:255],
            )
    # WhatsApp refused or timed out the send itself (or the server crashed mid-way): the
    # message may have left. Never repeated automatically.
    return SendResult(
        ok=False,
        reason=_words_or(words, f"HTTP {status}"),
        http_status=status,
        detail=words[:255],
    )


def classify_operation(reply: Answer | TransportFailure) -> OperationResult:
    """A device operation's answer: any 2xx JSON object is done; otherwise the reason."""
    if isinstance(reply, TransportFailure):
        return OperationResult(ok=False, reason=reply.reason)
    if 200 <= reply.status_code < 300 and isinstance(reply.data, dict):
        return OperationResult(ok=True, data=reply.data)
    if reply.status_code == 401:
        return OperationResult(ok=False, reason=REASON_UNAUTHORIZED)
    if 300 <= reply.status_code < 400 or reply.status_code == 404:
        return OperationResult(ok=False, reason=REASON_BAD_GATEWAY_URL)
    if 200 <= reply.status_code < 300:
        return OperationResult(ok=False, reason=REASON_GARBLED)
    words = _error_text(reply)
    return OperationResult(
        ok=False, reason=_words_or(words, REASON_HTTP_ERROR), data={"error": words}
    )


@dataclass(frozen=True)
class SessionStatus:
    connected: bool
    name: str = ""
    phone: str = ""
    picture_url: str = ""
    jid: str = ""


def session_status_from(data: dict[str, Any]) -> SessionStatus:
    """`/api/status` (and `/api/qrcode` when already logged in): `status` is the login flag."""
    inner = data.get("data") if isinstance(data.get("data"), dict) else {}
    connected = data.get("status") is True and str(data.get("message", "")).upper() != (
        "DISCONNECTED"
    )
    return SessionStatus(
        connected=connected,
        name=str(data.get("name") or inner.get("name") or "")[:120],
        phone=str(data.get("phone") or "")[:32],
        picture_url=str(data.get("pic") or "")[:1000],
        jid=str(inner.get("id") or "")[:120],
    )


class ApiWagoClient:
    """The calls Sapa makes to one ApiWago server (`base_url`, `api_key`)."""

    def __init__(self, *, base_url: str, api_key: str, client: httpx.Client | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self._client = client

    def _call(self, method: str, path: str, **kwargs) -> Answer | TransportFailure:
        return call(
            method,
            f"{self.base_url}{path}",
            headers={"apikey": self.api_key},
            client=self._client,
            **kwargs,
        )

    # --- Sends ---------------------------------------------------------------------------------

    def send_text(self, *, token: str, phone: str, text: str) -> SendResult:
        body = {"token": token, "phone": phone, "message": text}
        return classify_send(self._call("POST", "/api/send", json_body=body))

    def send_file(
        self, *, token: str, phone: str, url: str, filename: str = "", caption: str = ""
    ) -> SendResult:
        """The gateway fetches `url` (http(s), or a `data:` URI it decodes itself) and picks
        image/video/audio/document by the file's type; `file_name` names documents."""
        body = {"token": token, "phone": phone, "message": caption, "file_url": url}
        if filename:
            body["file_name"] = filename
        return classify_send(self._call("POST", "/api/send", json_body=body))

    def send_poll(
        self, *, token: str, phone: str, question: str, choices: Sequence[str], multiple: bool
    ) -> SendResult:
        """`selectableCount` is WhatsApp's: 1 = one choice, 0 = any number of them."""
        body = {
            "token": token,
            "phone": phone,
            "options": {
                "name": question,
                "options": list(choices),
                "selectableCount": 0 if multiple else 1,
            },
        }
        return classify_send(self._call("POST", "/api/send-poll", json_body=body))

    # --- Device operations ---------------------------------------------------------------------

    def start_session(
        self,
        *,
        token: str,
        reject_call: bool = False,
        reject_message: str = "",
        reject_exclude_phones: Sequence[str] = (),
        call_behavior: str = "",
    ) -> OperationResult:
        """Open the session (needed before a QR): incoming calls rejected when asked, with an
        optional message to the caller and numbers exempt from the rule."""
        body: dict[str, Any] = {"token": token, "reject_call": "Y" if reject_call else "N"}
        if reject_message:
            body["reject_message"] = reject_message
        if reject_exclude_phones:
            body["reject_exclude_phone"] = list(reject_exclude_phones)
        if call_behavior:
            body["call_behavior"] = call_behavior
        return classify_operation(self._call("POST", "/api/start", json_body=body))

    def qr_code(self, *, token: str) -> OperationResult:
        """`data` gets `qr` (a data: PNG URL) while waiting for a scan, or `connected` when the
        session is already logged in."""
        result = classify_operation(self._call("POST", "/api/qrcode", json_body={"token": token}))
        if result.ok:
            data = result.data
            if data.get("qrcode"):
                qr = str(data["qrcode"])
                return OperationResult(ok=True, data={"qr": qr, "connected": False})
            status = session_status_from(data)
            return OperationResult(ok=True, data={"qr": "", **_status_dict(status)})
        error = result.data.get("error", "")
        if error in QR_STATES:
            return OperationResult(ok=False, reason=QR_STATES[error], data={"error": error})
        return result

    def pairing_code(self, *, token: str, phone: str) -> OperationResult:
        """A code to type on the phone instead of scanning (`data["code"]`)."""
        result = classify_operation(
            self._call("POST", "/api/pair", json_body={"token": token, "phone": phone})
        )
        if result.ok and not result.data.get("code"):
            return OperationResult(ok=False, reason=REASON_GARBLED)
        if not result.ok and "already logged in" in result.data.get("error", ""):
            return OperationResult(ok=False, reason=REASON_ALREADY_LOGGED_IN, data=result.data)
        return result

    def status(self, *, token: str) -> OperationResult:
        result = classify_operation(self._call("GET", "/api/status", params={"token": token}))
        if not result.ok:
            return result
        return OperationResult(ok=True, data=_status_dict(session_status_from(result.data)))

    def logout(self, *, token: str) -> OperationResult:
        result = classify_operation(self._call("POST", "/api/logout", params={"token": token}))
        if not result.ok and result.data.get("error") == "not logged in":
            return OperationResult(ok=False, reason=REASON_NOT_LOGGED_IN_LOGOUT, data=result.data)
        return result

    def reconnect(self, *, token: str) -> OperationResult:
        return classify_operation(self._call("POST", "/api/reconnect", params={"token": token}))

    def delete(self, *, token: str) -> OperationResult:
        return classify_operation(self._call("DELETE", "/api/device", params={"token": token}))

    def set_webhook(self, *, token: str, url: str) -> OperationResult:
        return classify_operation(
            self._call("POST", "/api/webhook", json_body={"token": token, "url": url})
        )

    def list_devices(self, *, page: int = 1, limit: int = 50, search: str = "") -> OperationResult:
        """`data["devices"]`: [{token, jid, name, webhook, workspace}], `data["total"]`."""
        params: dict[str, Any] = {"page": page, "limit": limit}
        if search:
            params["q"] = search
        result = classify_operation(self._call("GET", "/api/devices", params=params))
        if not result.ok:
            return result
        rows = result.data.get("data") or []
        devices = [
            {
                "token": str(row.get("token") or ""),
                "jid": str(row.get("jid") or ""),
                "name": str(row.get("name") or ""),
                "webhook": str(row.get("webhook") or ""),
            }
            for row in rows
            if isinstance(row, dict)
        ]
        return OperationResult(
            ok=True, data={"devices": devices, "total": result.data.get("total", 0)}
        )


def _status_dict(status: SessionStatus) -> dict[str, Any]:
    return {
        "connected": status.connected,
        "name": status.name,
        "phone": status.phone,
        "picture_url": status.picture_url,
        "jid": status.jid,
    }
