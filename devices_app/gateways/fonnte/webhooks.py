"""Fonnte webhook bodies → normalized events (docs/ARCHITECTURE.md "Fonnte's protocol").

Fonnte is inconsistent about key case ("Status" / "status") and types (`inboxid` as int or
string, `choices` as a list or a comma-separated string, booleans as strings), so keys are read
case-insensitively and values leniently. What is refused is what cannot be a Fonnte body at
all: not a JSON object, or missing the field that identifies the event. A refused body raises
ParseError with a reason meant for the person configuring the gateway.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ...phone import InvalidNumber, normalize_number
from ...untrusted import Unstorable, clean_json, load_json
from ..base import (
    DELIVERY_DELIVERED,
    DELIVERY_FAILED,
    DELIVERY_READ,
    DELIVERY_SENT,
    ParseError,
)
from ..events import ConnectionChange, IncomingMessage, StatusUpdate

GROUP_SUFFIX = "@g.us"
PERSONAL_SUFFIXES = ("@s.whatsapp.net", "@c.us")


def load_body(raw: bytes, content_type: str = "") -> dict[str, Any]:
    """Decode a webhook body: JSON (what Fonnte sends), or a form post from older setups.

    Cleaned on the way in (`devices_app.untrusted`): what the databases cannot store (NUL, a
    lone surrogate, NaN) is cleaned everywhere in the body, including keys Sapa ignores, since
    the whole body is kept in `Message.raw`.
    """
    if not raw.strip():
        raise ParseError("empty body: expected a JSON object")
    if content_type.startswith("application/x-www-form-urlencoded"):
        from urllib.parse import parse_qsl

        try:
            return clean_json(dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
        except UnicodeDecodeError as exc:
            raise ParseError("form body is not UTF-8") from exc
    try:
        data = load_json(raw)
    except Unstorable as exc:
        raise ParseError(str(exc)) from exc
    if not isinstance(data, dict):
        raise ParseError(f"body must be a JSON object, got {type(data).__name__}")
    return data


def _lower(body: dict[str, Any]) -> dict[str, Any]:
    # First spelling wins when a body carries both "status" and "Status".
    out: dict[str, Any] = {}
    for key, value in body.items():
        out.setdefault(str(key).lower(), value)
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value).strip()
    raise ParseError(f"expected text, got {type(value).__name__}")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return _text(value).lower() in ("true", "1", "yes", "on")


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number


def _timestamp(value: Any) -> datetime | None:
    """Unix seconds (or milliseconds), as int or string; anything else is kept only in raw."""
    number = _int_or_none(value)
    if number is None or number <= 0:
        return None
    if number > 10**12:  # milliseconds
        number //= 1000
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _location(value: Any) -> tuple[Decimal, Decimal] | None:
    text = _text(value)
    if "," not in text:
        return None
    lat_text, lng_text = text.split(",", 1)
    try:
        lat = Decimal(lat_text.strip()).quantize(Decimal("0.000001"))
        lng = Decimal(lng_text.strip()).quantize(Decimal("0.000001"))
    except InvalidOperation:
        return None
    # "NaN,1" parses (and quantizes) to a Decimal NaN, which then raises on comparison.
    if not (lat.is_finite() and lng.is_finite()):
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return lat, lng


def _choices(value: Any) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list):
        items = [_text(item) for item in value]
    else:
        raise ParseError("'choices' must be a list or a comma-separated string")
    return tuple(item.strip() for item in items if item.strip())


def _address(value: str) -> tuple[str, bool]:
    """A chat address: (normalized number or group id, is_group)."""
    if value.endswith(GROUP_SUFFIX):
        return value, True
    for suffix in PERSONAL_SUFFIXES:
        value = value.removesuffix(suffix)
    try:
        return normalize_number(value), False
    except InvalidNumber:
        # Not a dialable number (a business id, a LID): keep the gateway's digits as given.
        digits = "".join(ch for ch in value if ch.isdigit())
        if not digits:
            raise ParseError(f"'sender' is not a number or group id: {value[:40]!r}") from None
        return digits, False


def check_device(body: dict[str, Any], number: str) -> None:
    """Refuse a body addressed to another device than the webhook key's (a misconfiguration)."""
    claimed = _text(_lower(body).get("device"))
    if not claimed:
        return
    try:
        claimed_number = normalize_number(claimed)
    except InvalidNumber:
        claimed_number = claimed
    if claimed_number != number:
        raise ParseError(f"'device' is {claimed!r} but this webhook URL belongs to device {number}")


def parse_incoming(body: dict[str, Any]) -> IncomingMessage:
    """Fonnte's incoming-message webhook (§4). Raises ParseError without a sender."""
    data = _lower(body)
    sender_raw = _text(data.get("sender")) or _text(data.get("pengirim"))
    if not sender_raw:
        raise ParseError("'sender' (or legacy 'pengirim') is missing: not an incoming message")
    sender, sender_is_group = _address(sender_raw)
    is_group = sender_is_group or _bool(data.get("isgroup"))
    author = ""
    member = _text(data.get("member"))
    if is_group and member:
        author, _ = _address(member)
    inbox_id = _int_or_none(data.get("inboxid"))
    kind = _text(data.get("type")).lower()[:32] or "text"
    poll_name = _text(data.get("pollname"))[:255]
    inbox_id = inbox_id if inbox_id and inbox_id > 0 else None
    return IncomingMessage(
        sender=sender,
        text=_text(data.get("message")) or _text(data.get("pesan")),
        sender_name=_text(data.get("name"))[:120],
        is_group=is_group,
        author=author,
        message_id=str(inbox_id) if inbox_id else "",
        inbox_id=inbox_id,
        timestamp=_timestamp(data.get("timestamp")),
        kind=kind,
        attachment_url=_text(data.get("url"))[:1000],
        attachment_name=_text(data.get("filename"))[:255],
        attachment_extension=_text(data.get("extension")).lstrip(".").lower()[:16],
        location=_location(data.get("location")),
        poll_name=poll_name,
        poll_choices=_choices(data.get("choices")),
        # Fonnte sends a poll as type "poll"; a vote names the poll it answers under another
        # type (a text), with the chosen options as `choices`.
        is_poll_vote=bool(poll_name) and kind != "poll",
        is_forwarded=_bool(data.get("isforwarded")),
        is_self=_bool(data.get("quick")),
        raw=body,
    )


def parse_status(body: dict[str, Any]) -> StatusUpdate:
    """Fonnte's message-status webhook (§5): `id` and/or `stateid`; neither is refused."""
    data = _lower(body)
    message_id = _text(data.get("id"))
    state_id = _text(data.get("stateid"))
    if not message_id and not state_id:
        raise ParseError("neither 'id' nor 'stateid' is present: not a message status update")
    status = _text(data.get("status")).lower()[:32]
    state = _text(data.get("state")).lower()[:32]
    delivery = _delivery(status=status, state=state)
    return StatusUpdate(
        message_id=message_id[:64],
        state_id=state_id[:64],
        status=status,
        state=state,
        delivery=delivery,
        failure_reason=(status or state) if delivery == DELIVERY_FAILED else "",
        raw=body,
    )


# Fonnte's words for where a sent message is (docs/ARCHITECTURE.md "Fonnte's protocol").
# `processing`, `pending` and `waiting` are still on the way (no word); the failures carry their
# word as the reason.
STATUS_WORDS = {
    "sent": DELIVERY_SENT,
    "success": DELIVERY_SENT,
    "delivered": DELIVERY_DELIVERED,
    "read": DELIVERY_READ,
    "played": DELIVERY_READ,
    "invalid": DELIVERY_FAILED,
    "failed": DELIVERY_FAILED,
    "expired": DELIVERY_FAILED,
    "url unreachable": DELIVERY_FAILED,
}
_DELIVERY_ORDER = [DELIVERY_FAILED, DELIVERY_SENT, DELIVERY_DELIVERED, DELIVERY_READ]


def _delivery(*, status: str, state: str) -> str:
    """The furthest delivery word the update proves (the state is WhatsApp's, usually later)."""
    words = [STATUS_WORDS[word] for word in (state, status) if word in STATUS_WORDS]
    if not words:
        return ""
    return max(words, key=_DELIVERY_ORDER.index)


CONNECTED_WORDS = {"connect", "connected", "online"}
DISCONNECTED_WORDS = {"disconnect", "disconnected", "offline"}


def parse_connection(body: dict[str, Any]) -> ConnectionChange:
    """Fonnte's device-status webhook (§6): `status` is `connect` or `disconnect`."""
    data = _lower(body)
    status = _text(data.get("status")).lower()
    if status in CONNECTED_WORDS:
        connected = True
    elif status in DISCONNECTED_WORDS:
        connected = False
    elif not status:
        raise ParseError("'status' is missing: expected 'connect' or 'disconnect'")
    else:
        raise ParseError(f"'status' is {status[:40]!r}: expected 'connect' or 'disconnect'")
    return ConnectionChange(
        connected=connected,
        reason=_text(data.get("reason"))[:255],
        timestamp=_timestamp(data.get("timestamp")),
        raw={key: value for key, value in body.items() if str(key).lower() != "token"},
    )
