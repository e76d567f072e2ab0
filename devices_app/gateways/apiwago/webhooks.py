"""ApiWago webhook bodies → normalized events (docs/ARCHITECTURE.md "ApiWago's protocol").

One URL per session receives everything, told apart by `event`:
- `message`: an incoming message (or, with the gateway's WEBHOOKTYPE=all, one sent from the
  business phone: `fromMe`). The WhatsApp message id, timestamp and the message itself are
  inside `payload`, a JSON *string* holding a one-element list; the top-level fields carry
  the addresses, the text (or caption, or the chosen button's title) and `media_url` when the
  gateway stores media (SAVE_MEDIA=LOCAL|S3).
- `receipt`: delivery / read acknowledgements, several message ids at once.
- `incoming_call`: a call the gateway forwards; Sapa has nothing to do with it.

The gateway does not look at our answer (only a transport error makes it retry, 3 times), so a
body refused here is lost unless the caller keeps it: raise ParseError, and the webhook view
stores the body for staff (devices_app.models.UnparsedWebhook).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from .. import wa_message
from ..base import DELIVERY_DELIVERED, DELIVERY_READ, ParseError
from ..events import IncomingMessage, StatusUpdate
from ..jid import InvalidAddress, chat_address, person_number

Event = IncomingMessage | StatusUpdate

# whatsmeow's receipt types → what they prove about a message Sapa sent. The plain delivery
# receipt has an empty type. Others (read-self: we read their message; sender, retry,
# server-error, inactive, peer_msg, hist_sync) say nothing about a message Sapa sent.
RECEIPT_DELIVERY = {
    "": DELIVERY_DELIVERED,
    "delivery": DELIVERY_DELIVERED,
    "read": DELIVERY_READ,
    "played": DELIVERY_READ,
}

# The gateway's message types → Sapa's kinds (conversation/extendedText are both plain text;
# an interactive reply carries the chosen button's title as text).
KINDS = {
    "conversation": "text",
    "extendedtext": "text",
    "interactiveresponse": "text",
    "image": "image",
    "video": "video",
    "audio": "audio",
    "document": "document",
    "sticker": "sticker",
}

SECRET_KEYS = ("token",)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value).strip()
    raise ParseError(f"expected text, got {type(value).__name__}")


def _without_secrets(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in SECRET_KEYS}


def check_token(body: dict[str, Any], token: str) -> None:
    """Refuse a body for another session than the device's (a misconfigured webhook URL)."""
    claimed = _text(body.get("token"))
    if claimed and token and not hmac.compare_digest(claimed.encode(), token.encode()):
        raise ParseError("'token' is not this device's session token")


def parse(body: dict[str, Any]) -> list[Event]:
    """Every event of one webhook body (a receipt names several messages; a call none)."""
    if not isinstance(body, dict):
        raise ParseError("body must be a JSON object")
    event = _text(body.get("event")).lower()
    if event == "message":
        return [parse_message(body)]
    if event == "receipt":
        return parse_receipt(body)
    if event == "incoming_call":
        return []
    if not event:
        raise ParseError("'event' is missing: expected 'message' or 'receipt'")
    raise ParseError(f"'event' is {event[:40]!r}: expected 'message' or 'receipt'")


def _original(body: dict[str, Any]) -> dict[str, Any]:
    """payload[0]: {key: {remoteJid, fromMe, id}, messageTimestamp, pushName, broadcast,
    message}. An unreadable payload is not fatal: the top-level fields carry the message."""
    raw = body.get("payload")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    if isinstance(raw, list) and raw and isinstance(raw[0], dict):
        return raw[0]
    if isinstance(raw, dict):
        return raw
    return {}


def _file_name(message: dict[str, Any], media_url: str) -> str:
    if wa_message.file_name_of(message):
        return wa_message.file_name_of(message)
    # The gateway names stored media `<message id>.<ext>`.
    return media_url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1][:255] if media_url else ""


def parse_message(body: dict[str, Any]) -> IncomingMessage:
    original = _original(body)
    key = original.get("key") if isinstance(original.get("key"), dict) else {}
    message = wa_message.unwrap(original.get("message"))
    chat = (
        _text(body.get("chat"))
        or _text(body.get("remoteJid"))
        or _text(key.get("remoteJid"))
        or _text(body.get("phone"))
    )
    if not chat:
        raise ParseError("'chat' (or 'remoteJid' / 'phone') is missing: not an incoming message")
    try:
        sender, is_group = chat_address(chat)
    except InvalidAddress as exc:
        raise ParseError(f"'chat' is not a number or group id: {chat[:60]!r}") from exc
    from_me = body.get("fromMe") is True or key.get("fromMe") is True
    author = ""
    if is_group and not from_me and _text(body.get("sender")):
        try:
            author = person_number(_text(body.get("sender")))
        except InvalidAddress:
            author = ""
    media_url = _text(body.get("media_url"))[:1000]
    attachment_name = _file_name(message, media_url)
    location = wa_message.location_of(message)
    poll_name, poll_choices = wa_message.poll_of(message)
    push_name = _text(body.get("pushName")) or _text(original.get("pushName"))
    kind = KINDS.get(_text(body.get("type")).lower(), _text(body.get("type")).lower()[:32])
    if location is not None:
        kind = "location"
    elif poll_name:
        kind = "poll"
    return IncomingMessage(
        sender=sender,
        text=_text(body.get("text")) or _text(body.get("message")),
        sender_name="" if from_me else push_name[:120],
        is_group=is_group,
        author=author,
        message_id=wa_message.message_id(key.get("id")),
        timestamp=wa_message.timestamp_of(original.get("messageTimestamp")),
        kind=kind or "text",
        attachment_url=media_url,
        attachment_name=attachment_name,
        attachment_extension=(
            attachment_name.rsplit(".", 1)[-1].lower()[:16] if "." in attachment_name else ""
        ),
        location=location,
        poll_name=poll_name,
        poll_choices=poll_choices,
        is_self=from_me,
        raw=_without_secrets(body),
    )


def parse_receipt(body: dict[str, Any]) -> list[StatusUpdate]:
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids:
        raise ParseError("'ids' is missing: not a receipt")
    receipt_type = _text(body.get("type")).lower()
    delivery = RECEIPT_DELIVERY.get(receipt_type)
    if delivery is None:
        return []
    raw = _without_secrets(body)
    return [
        StatusUpdate(
            message_id=wa_message.message_id(message_id),
            state=receipt_type or "delivery",
            delivery=delivery,
            raw=raw,
        )
        for message_id in ids
        if _text(message_id)
    ]
