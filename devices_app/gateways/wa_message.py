"""WhatsApp's own message structure, as gateways built on WhatsApp Web libraries pass it on.

ApiWago (whatsmeow) puts it inside its `payload` string; the Waziper lineage (Baileys) posts
it as it is. Both write the protobuf field names in camelCase (`conversation`,
`extendedTextMessage.text`, `imageMessage.caption`, `locationMessage.degreesLatitude`…), so
one reader serves both. Everything here is lenient: a field that is missing or malformed is
simply not read.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# Wrappers that hold the real message one level down.
WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
    "editedMessage",
)

# The message's field → Sapa's kind.
MEDIA_KINDS = {
    "imageMessage": "image",
    "videoMessage": "video",
    "audioMessage": "audio",
    "documentMessage": "document",
    "stickerMessage": "sticker",
}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text_of(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def unwrap(message: Any) -> dict[str, Any]:
    message = _dict(message)
    for _ in range(3):  # wrappers nest at most a couple deep
        for wrapper in WRAPPERS:
            inner = _dict(_dict(message.get(wrapper)).get("message"))
            if inner:
                message = inner
                break
        else:
            return message
    return message


def body_text(message: dict[str, Any]) -> str:
    """The words of a message: its text, a media caption, or the chosen button / row."""
    if text_of(message.get("conversation")):
        return text_of(message["conversation"])
    for key in ("extendedTextMessage",):
        if text_of(_dict(message.get(key)).get("text")):
            return text_of(message[key]["text"])
    for key in ("imageMessage", "videoMessage", "documentMessage"):
        caption = text_of(_dict(message.get(key)).get("caption"))
        if caption:
            return caption
    buttons = _dict(message.get("buttonsResponseMessage"))
    if text_of(buttons.get("selectedDisplayText")):
        return text_of(buttons["selectedDisplayText"])
    template = _dict(message.get("templateButtonReplyMessage"))
    if text_of(template.get("selectedDisplayText")):
        return text_of(template["selectedDisplayText"])
    listed = _dict(message.get("listResponseMessage"))
    if text_of(listed.get("title")):
        return text_of(listed["title"])
    contact = _dict(message.get("contactMessage"))
    if text_of(contact.get("displayName")):
        return text_of(contact["displayName"])
    return ""


def kind_of(message: dict[str, Any]) -> str:
    if location_of(message) is not None:
        return "location"
    if poll_of(message)[0]:
        return "poll"
    for key, kind in MEDIA_KINDS.items():
        if key in message:
            return kind
    if "contactMessage" in message or "contactsArrayMessage" in message:
        return "contact"
    return "text"


def location_of(message: dict[str, Any]) -> tuple[Decimal, Decimal] | None:
    for key in ("locationMessage", "liveLocationMessage"):
        pin = message.get(key)
        if not isinstance(pin, dict):
            continue
        try:
            lat = Decimal(str(pin.get("degreesLatitude"))).quantize(Decimal("0.000001"))
            lng = Decimal(str(pin.get("degreesLongitude"))).quantize(Decimal("0.000001"))
        except (InvalidOperation, ValueError):
            return None
        if lat.is_finite() and lng.is_finite() and -90 <= lat <= 90 and -180 <= lng <= 180:
            return lat, lng
    return None


def poll_of(message: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """A poll someone created: (question, choices), or ("", ())."""
    for key in ("pollCreationMessage", "pollCreationMessageV2", "pollCreationMessageV3"):
        poll = message.get(key)
        if isinstance(poll, dict):
            options = poll.get("options") if isinstance(poll.get("options"), list) else []
            choices = tuple(
                text_of(option.get("optionName"))
                for option in options
                if isinstance(option, dict) and text_of(option.get("optionName"))
            )
            return text_of(poll.get("name"))[:255], choices
    return "", ()


def file_name_of(message: dict[str, Any]) -> str:
    return text_of(_dict(message.get("documentMessage")).get("fileName"))[:255]


def timestamp_of(value: Any) -> datetime | None:
    """Unix seconds as a number, a string, or protobuf.js's Long ({low, high})."""
    if isinstance(value, dict):
        low, high = value.get("low"), value.get("high", 0)
        if not isinstance(low, int) or not isinstance(high, int):
            return None
        value = (high << 32) + (low & 0xFFFFFFFF)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    if number <= 0:
        return None
    if number > 10**12:  # milliseconds
        number //= 1000
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


MAX_ID_LENGTH = 64


def message_id(value: Any) -> str:
    """A WhatsApp message id as Sapa stores it (at most 64 characters, the column's size). Real
    ids are about 20–32 characters; a longer one is replaced by its hash, the same wherever it
    appears (send answer, incoming message, receipt), so updates still find their message."""
    text = text_of(value)
    if len(text) <= MAX_ID_LENGTH:
        return text
    return "h:" + hashlib.sha256(text.encode()).hexdigest()[: MAX_ID_LENGTH - 2]
