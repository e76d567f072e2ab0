"""wonotify webhook bodies → normalized events (docs/ARCHITECTURE.md "wonotify's protocol").

wonotify documents its webhook event names (`message`, `message_status`, `presence`) but not
their bodies. Two shapes are read:
1. the Waziper lineage's, which the same API comes from: `{"instance_id": …, "data": {"event":
   "messages.upsert" | "messages.update" | "contacts.*" | "groups.update", "data": <the
   Baileys event>}}` — messages are WhatsApp's own structure (`key`, `message`, `pushName`,
   `messageTimestamp`), updates carry Baileys' numeric delivery status;
2. the documented names, `{"event": "message" | "message_status" | "presence", …}`, with the
   event's fields at the top level or under `data`: a Baileys message, or plain fields
   (`from`/`number`/`sender`, `message`/`text`/`body`, `id`, `timestamp`, `media_url`…).
A body in neither shape raises ParseError; the webhook view keeps it for staff to read
(devices_app.models.UnparsedWebhook), since wonotify does not retry a refused webhook and the
body would otherwise be lost.
"""

from __future__ import annotations

import hmac
from typing import Any

from .. import wa_message
from ..base import DELIVERY_DELIVERED, DELIVERY_FAILED, DELIVERY_READ, DELIVERY_SENT, ParseError
from ..events import IncomingMessage, StatusUpdate
from ..jid import InvalidAddress, chat_address, person_number

Event = IncomingMessage | StatusUpdate

# Baileys' WAMessageStatus, as a number or its name → what it proves about a sent message.
BAILEYS_STATUS = {
    0: DELIVERY_FAILED,
    2: DELIVERY_SENT,
    3: DELIVERY_DELIVERED,
    4: DELIVERY_READ,
    5: DELIVERY_READ,
    "error": DELIVERY_FAILED,
    "server_ack": DELIVERY_SENT,
    "delivery_ack": DELIVERY_DELIVERED,
    "read": DELIVERY_READ,
    "played": DELIVERY_READ,
    "sent": DELIVERY_SENT,
    "delivered": DELIVERY_DELIVERED,
    "failed": DELIVERY_FAILED,
}
# Valid events that say nothing Sapa tracks.
IGNORED_EVENTS = frozenset(
    {"presence", "presence.update", "contacts.upsert", "contacts.update", "groups.update",
     "groups.upsert", "chats.upsert", "chats.update", "message-receipt.update"}
)  # fmt: skip

# Message parts that carry no content: a body with only these is WhatsApp's own signalling.
SIGNALLING = frozenset({"protocolMessage", "senderKeyDistributionMessage", "messageContextInfo"})

_text = wa_message.text_of


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def check_instance(body: dict[str, Any], instance_id: str) -> None:
    """Refuse a body for another instance than the device's (a misconfigured webhook URL)."""
    claimed = _text(body.get("instance_id"))
    if claimed and instance_id and not hmac.compare_digest(claimed.encode(), instance_id.encode()):
        raise ParseError("'instance_id' is not this device's instance")


def parse(body: dict[str, Any]) -> list[Event]:
    if not isinstance(body, dict):
        raise ParseError("body must be a JSON object")
    inner = _dict(body.get("data"))
    # Waziper: the event travels one level down, beside its own `data`.
    if _text(inner.get("event")) and "event" not in body:
        return _parse_event(_text(inner.get("event")).lower(), inner.get("data"), body)
    event = _text(body.get("event")).lower()
    if not event:
        raise ParseError("no 'event' (nor 'data.event'): not a wonotify webhook Sapa knows")
    payload = body.get("data") if "data" in body else body
    return _parse_event(event, payload, body)


def _parse_event(event: str, payload: Any, body: dict[str, Any]) -> list[Event]:
    raw = {key: value for key, value in body.items() if key != "access_token"}
    if event == "messages.upsert":
        upsert = _dict(payload)
        # "append" upserts are history or sync, not new messages.
        if _text(upsert.get("type")).lower() not in ("", "notify"):
            return []
        messages = upsert.get("messages")
        if not isinstance(messages, list):
            raise ParseError("'messages.upsert' without a 'messages' list")
        return [_baileys_message(item, raw) for item in messages if _is_chat_message(item)]
    if event == "messages.update":
        updates = payload if isinstance(payload, list) else [payload]
        return [update for item in updates if (update := _baileys_update(item, raw))]
    if event == "message":
        message = _dict(payload)
        if isinstance(message.get("key"), dict):
            return [_baileys_message(message, raw)] if _is_chat_message(message) else []
        return [_flat_message(message, raw)]
    if event == "message_status":
        return _flat_status(_dict(payload), raw)
    if event in IGNORED_EVENTS:
        return []
    raise ParseError(f"event {event[:40]!r} is not one Sapa reads")


def _is_chat_message(item: Any) -> bool:
    """Skip status broadcasts and protocol messages (deletions, key shares)."""
    item = _dict(item)
    remote = _text(_dict(item.get("key")).get("remoteJid"))
    message = wa_message.unwrap(item.get("message"))
    if remote.endswith("@broadcast"):
        return False
    return bool(message) and not set(message) <= SIGNALLING


def _address(value: str, field: str) -> tuple[str, bool]:
    try:
        return chat_address(value)
    except InvalidAddress as exc:
        raise ParseError(f"{field} is not a number or group id: {value[:60]!r}") from exc


def _baileys_message(item: Any, raw: dict[str, Any]) -> IncomingMessage:
    item = _dict(item)
    key = _dict(item.get("key"))
    remote = _text(key.get("remoteJid"))
    if not remote:
        raise ParseError("message without 'key.remoteJid'")
    sender, is_group = _address(remote, "'key.remoteJid'")
    from_me = key.get("fromMe") is True
    author = ""
    if is_group and not from_me and _text(key.get("participant")):
        try:
            author = person_number(_text(key.get("participant")))
        except InvalidAddress:
            author = ""
    message = wa_message.unwrap(item.get("message"))
    poll_name, poll_choices = wa_message.poll_of(message)
    name = wa_message.file_name_of(message)
    return IncomingMessage(
        sender=sender,
        text=wa_message.body_text(message),
        sender_name="" if from_me else _text(item.get("pushName"))[:120],
        is_group=is_group,
        author=author,
        message_id=wa_message.message_id(key.get("id")),
        timestamp=wa_message.timestamp_of(item.get("messageTimestamp")),
        kind=wa_message.kind_of(message),
        attachment_name=name,
        attachment_extension=name.rsplit(".", 1)[-1].lower()[:16] if "." in name else "",
        location=wa_message.location_of(message),
        poll_name=poll_name,
        poll_choices=poll_choices,
        is_self=from_me,
        raw=raw,
    )


def _baileys_update(item: Any, raw: dict[str, Any]) -> StatusUpdate | None:
    item = _dict(item)
    key = _dict(item.get("key"))
    status = _dict(item.get("update")).get("status")
    # Updates of messages the customer sent (fromMe false) say nothing about Sapa's.
    if key.get("fromMe") is False or status is None:
        return None
    delivery = BAILEYS_STATUS.get(status if isinstance(status, int) else _text(status).lower())
    message_id = _text(key.get("id"))
    if not delivery or not message_id:
        return None
    return StatusUpdate(
        message_id=wa_message.message_id(message_id),
        state=_text(status).lower()[:32],
        delivery=delivery,
        failure_reason="error" if delivery == DELIVERY_FAILED else "",
        raw=raw,
    )


def _first(data: dict[str, Any], *names: str) -> str:
    for name in names:
        value = _text(data.get(name))
        if value:
            return value
    return ""


def _flat_message(data: dict[str, Any], raw: dict[str, Any]) -> IncomingMessage:
    chat = _first(data, "remoteJid", "chat", "from", "number", "sender", "phone")
    if not chat:
        raise ParseError("'message' event without a sender ('from', 'number' or 'sender')")
    sender, is_group = _address(chat, "the sender")
    from_me = data.get("fromMe") is True or data.get("from_me") is True
    author = ""
    participant = _first(data, "participant", "author")
    if is_group and participant and not from_me:
        try:
            author = person_number(participant)
        except InvalidAddress:
            author = ""
    media_url = _first(data, "media_url", "mediaUrl", "url")[:1000]
    name = _first(data, "filename", "file_name", "fileName")[:255]
    if not name and media_url:
        name = media_url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1][:255]
    kind = _first(data, "type", "messageType").lower()[:32]
    return IncomingMessage(
        sender=sender,
        text=_first(data, "message", "text", "body", "caption"),
        sender_name="" if from_me else _first(data, "pushName", "push_name", "name")[:120],
        is_group=is_group,
        author=author,
        message_id=wa_message.message_id(_first(data, "id", "message_id", "messageId")),
        timestamp=wa_message.timestamp_of(data.get("timestamp") or data.get("messageTimestamp")),
        kind=kind if kind and kind not in ("chat", "conversation") else "text",
        attachment_url=media_url,
        attachment_name=name,
        attachment_extension=name.rsplit(".", 1)[-1].lower()[:16] if "." in name else "",
        is_self=from_me,
        raw=raw,
    )


def _flat_status(data: dict[str, Any], raw: dict[str, Any]) -> list[StatusUpdate]:
    message_id = _first(data, "id", "message_id", "messageId") or _text(
        _dict(data.get("key")).get("id")
    )
    status = data.get("status") if "status" in data else data.get("ack")
    if not message_id or status is None:
        raise ParseError("'message_status' event without 'id' and 'status'")
    lookup = status if isinstance(status, int) else _text(status).lower()
    delivery = BAILEYS_STATUS.get(lookup, "")
    return [
        StatusUpdate(
            message_id=wa_message.message_id(message_id),
            state=_text(status).lower()[:32],
            delivery=delivery,
            failure_reason=_text(status)[:255] if delivery == DELIVERY_FAILED else "",
            raw=raw,
        )
    ]
