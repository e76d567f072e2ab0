"""wonotify's HTTP API (docs/ARCHITECTURE.md "wonotify's protocol"): sends of text and media,
and instance operations.

Protocol facts from its API page: base `https://wonotify.com/api/…` (alias `/whatsapp_api/…`),
every call authorised by `access_token` (the account's) and `instance_id` (the WhatsApp
session's) as query parameters or in the JSON body; `send` takes `number`, `type` (`text` or
`media` with `media_url` and an optional `filename`) and `message` (the caption for media);
`send_group` the same with `group_id`. Answers follow the Waziper script wonotify is built on:
`{"status": "success" | "error", "message": "…", …}` with HTTP 200 either way. The answer
bodies are not documented beyond that, so ids and QR images are looked for where the Waziper
lineage puts them, and an answer that says neither success nor error is an unknown outcome.
"""

from __future__ import annotations

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
from ..http import classify_http_status
from ..json_api import REASON_GARBLED, Answer, TransportFailure, call

REASON_AUTH_FAILED = gettext_noop("The gateway refused the access token.")
REASON_INSTANCE_INVALID = gettext_noop("The gateway does not know this instance id.")
REASON_INSTANCE_MISSING = gettext_noop("The device has no instance id.")
REASON_LICENSE = gettext_noop("The gateway's own licence check failed.")
REASON_QUOTA = gettext_noop("The monthly message limit of the gateway account is used up.")
REASON_SESSION_MISSING = gettext_noop("The device is not connected to WhatsApp on the gateway.")
REASON_SEND_ERROR = gettext_noop(
    "The gateway reported an error while sending; it may have been sent."
)
REASON_NO_QR = gettext_noop("The gateway could not make a QR code yet; try again in a moment.")
REASON_ALREADY_LOGGED_OUT = gettext_noop("The device was already logged out.")

# The Waziper script's error messages (lower-cased, matched by their start) → (reason,
# permanent). All are answers given before anything was sent, except the bare "Error".
KNOWN_ERRORS: tuple[tuple[str, str, bool], ...] = (
    ("the authentication process has failed", REASON_AUTH_FAILED, True),
    ("the instance id provided has been invalidated", REASON_INSTANCE_INVALID, True),
    ("the instance id must be provided", REASON_INSTANCE_MISSING, True),
    ("whoop", REASON_LICENSE, True),
    ("the number of messages you have sent per month", REASON_QUOTA, True),
    ("the whatsapp session could not be found", REASON_SESSION_MISSING, False),
)
# Waziper's catch-all after the WhatsApp library failed to send: the message may have left.
SEND_FAILED_WORDS = "error"

REASONS = (
    REASON_AUTH_FAILED,
    REASON_INSTANCE_INVALID,
    REASON_INSTANCE_MISSING,
    REASON_LICENSE,
    REASON_QUOTA,
    REASON_SESSION_MISSING,
    REASON_SEND_ERROR,
    REASON_NO_QR,
    REASON_ALREADY_LOGGED_OUT,
)


def _status_word(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    status = data.get("status")
    if status is True:
        return "success"
    if status is False:
        return "error"
    return str(status or "").strip().lower()


def _message_words(data: dict[str, Any]) -> str:
    message = data.get("message")
    return message.strip() if isinstance(message, str) else ""


def _known_error(words: str) -> tuple[str, bool] | None:
    lowered = words.lower()
    for prefix, reason, permanent in KNOWN_ERRORS:
        if lowered.startswith(prefix):
            return reason, permanent
    return None


def _message_id(data: dict[str, Any]) -> str:
    """The WhatsApp id of a sent message, wherever the Waziper lineage puts it: the Baileys
    message (`message` or `data`) with its `key.id`, or a plain `id` / `message_id`."""
    for holder in (data.get("message"), data.get("data"), data):
        if not isinstance(holder, dict):
            continue
        key = holder.get("key")
        if isinstance(key, dict) and isinstance(key.get("id"), str) and key["id"]:
            return key["id"]
        for name in ("message_id", "id"):
            value = holder.get(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return str(value)
    return ""


def classify_send(reply: Answer | TransportFailure) -> SendResult:
    """The outcome of `send` / `send_group`. Pure: tested on its own."""
    if isinstance(reply, TransportFailure):
        return reply.send_result()
    by_status = classify_http_status(reply.status_code)
    if by_status is not None:
        return by_status
    data, word = reply.data, _status_word(reply.data)
    if word == "success":
        return SendResult(
            ok=True,
            message_ids=[wa_message.message_id(_message_id(data))] if _message_id(data) else [],
            http_status=reply.status_code,
        )
    if word != "error":
        return SendResult(
            ok=False, reason=REASON_UNCONFIRMED_GARBLED, http_status=reply.status_code
        )
    words = _message_words(data)
    known = _known_error(words)
    if known is not None:
        reason, permanent = known
        return SendResult(
            ok=False,
            reason=reason,
            permanent=permanent,
            certainly_not_sent=True,
            http_status=reply.status_code,
            detail=words[:255],
        )
    if words.lower() == SEND_FAILED_WORDS:
        return SendResult(
            ok=False, reason=REASON_SEND_ERROR, http_status=reply.status_code, detail=words
        )
    # Another refusal in words we do not know: answered, so nothing was sent; maybe passing.
    return SendResult(
        ok=False,
        reason=words[:255] or REASON_HTTP_ERROR,
        certainly_not_sent=True,
        http_status=reply.status_code,
    )


def classify_operation(reply: Answer | TransportFailure) -> OperationResult:
    if isinstance(reply, TransportFailure):
        return OperationResult(ok=False, reason=reply.reason)
    if 300 <= reply.status_code < 400 or reply.status_code == 404:
        return OperationResult(ok=False, reason=REASON_BAD_GATEWAY_URL)
    if not 200 <= reply.status_code < 300:
        return OperationResult(ok=False, reason=f"HTTP {reply.status_code}")
    data, word = reply.data, _status_word(reply.data)
    if word == "success":
        return OperationResult(ok=True, data=data)
    if word != "error":
        return OperationResult(ok=False, reason=REASON_GARBLED)
    words = _message_words(data)
    known = _known_error(words)
    return OperationResult(
        ok=False,
        reason=known[0] if known else (words[:255] or REASON_HTTP_ERROR),
        data={"error": words},
    )


class WonotifyClient:
    """The calls Sapa makes to wonotify for one account (`access_token`)."""

    def __init__(self, *, base_url: str, access_token: str, client: httpx.Client | None = None):
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self._client = client

    def _post(
        self, path: str, *, params: dict[str, Any] | None = None, json_body: Any = None
    ) -> Answer | TransportFailure:
        query = {"access_token": self.access_token, **(params or {})}
        if json_body is not None:
            # The JSON form carries the credentials in the body, as the API page shows it.
            json_body = {**json_body, **query}
            query = {}
        return call(
            "POST",
            f"{self.base_url}/{path}",
            params=query or None,
            json_body=json_body,
            client=self._client,
        )

    # --- Sends -----------------------------------------------------------------------------------

    def send(
        self,
        *,
        instance_id: str,
        target: str,
        text: str = "",
        media_url: str = "",
        filename: str = "",
    ) -> SendResult:
        """Text, or media (`message` is then the caption). A group id (…@g.us) goes through
        `send_group` with `group_id`; a person's number through `send` with `number`."""
        body: dict[str, Any] = {"type": "media" if media_url else "text", "message": text}
        if media_url:
            body["media_url"] = media_url
            if filename:
                body["filename"] = filename
        if target.endswith("@g.us"):
            path, body["group_id"] = "send_group", target
        else:
            path, body["number"] = "send", target
        body["instance_id"] = instance_id
        return classify_send(self._post(path, json_body=body))

    # --- Instance operations ---------------------------------------------------------------------

    def _instance(self, path: str, instance_id: str, **params: Any) -> OperationResult:
        return classify_operation(self._post(path, params={"instance_id": instance_id, **params}))

    def create_instance(self) -> OperationResult:
        """A new instance; `data["instance_id"]` is its id."""
        result = classify_operation(self._post("create_instance"))
        if not result.ok:
            return result
        instance_id = _instance_id(result.data)
        if not instance_id:
            return OperationResult(ok=False, reason=REASON_GARBLED, data=result.data)
        return OperationResult(ok=True, data={"instance_id": instance_id})

    def qr_code(self, *, instance_id: str) -> OperationResult:
        """`data["qr"]`: the QR as a data: URL; `data["connected"]` when already logged in."""
        result = self._instance("get_qrcode", instance_id)
        if result.ok:
            image = _qr_image(result.data)
            if not image:
                return OperationResult(ok=False, reason=REASON_NO_QR)
            return OperationResult(ok=True, data={"qr": image, "connected": False})
        words = result.data.get("error", "").lower()
        if "logged in successfully" in words:
            return OperationResult(ok=True, data={"qr": "", "connected": True})
        if "cannot generate" in words:
            return OperationResult(ok=False, reason=REASON_NO_QR, data=result.data)
        return result

    def reboot(self, *, instance_id: str) -> OperationResult:
        return self._instance("reboot", instance_id)

    def reset(self, *, instance_id: str) -> OperationResult:
        """Logs out, gives the instance a new id and deletes its data: `data["instance_id"]` is
        the new id when the gateway says it (Sapa must store it, or every later call fails)."""
        result = self._instance("reset_instance", instance_id)
        if not result.ok:
            return result
        return OperationResult(ok=True, data={"instance_id": _instance_id(result.data)})

    def reconnect(self, *, instance_id: str) -> OperationResult:
        return self._instance("reconnect", instance_id)

    def logout(self, *, instance_id: str) -> OperationResult:
        result = self._instance("logout", instance_id)
        if not result.ok and "logged out before" in result.data.get("error", "").lower():
            return OperationResult(ok=False, reason=REASON_ALREADY_LOGGED_OUT, data=result.data)
        return result

    def set_webhook(self, *, instance_id: str, url: str, enable: bool = True) -> OperationResult:
        return self._instance(
            "set_webhook", instance_id, webhook_url=url, enable="true" if enable else "false"
        )


def _instance_id(data: dict[str, Any]) -> str:
    for holder in (data, data.get("data")):
        if isinstance(holder, dict):
            value = holder.get("instance_id") or holder.get("instanceId")
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return str(value)[:120]
    return ""


def _qr_image(data: dict[str, Any]) -> str:
    for name in ("base64", "qrcode", "qr_code", "qr"):
        value = data.get(name)
        if isinstance(value, str) and value:
            return value if value.startswith("data:") else f"data:image/png;base64,{value}"
    inner = data.get("data")
    return _qr_image(inner) if isinstance(inner, dict) else ""
