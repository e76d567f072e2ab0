"""WhatsApp addresses (JIDs) as the whatsmeow- and Baileys-based gateways write them.

`628123@s.whatsapp.net` is a person, `1203…@g.us` a group, `628123:12@s.whatsapp.net` one of a
person's devices, `1234…@lid` a privacy id WhatsApp uses instead of the number. Sapa keys a
chat by the normalized number, or by the group id as given.
"""

from __future__ import annotations

from ..phone import InvalidNumber, normalize_number

GROUP_SERVER = "g.us"
BROADCAST_SERVER = "broadcast"


class InvalidAddress(ValueError):
    pass


def split_jid(value: str) -> tuple[str, str]:
    """`user[:device]@server` → (user, server); a bare number → (number, "")."""
    value = (value or "").strip()
    user, _, server = value.partition("@")
    user = user.split(":", 1)[0]
    return user, server.lower()


def is_group(value: str) -> bool:
    return split_jid(value)[1] == GROUP_SERVER


def chat_address(value: str) -> tuple[str, bool]:
    """(Sapa's address of the chat, is_group). Raises InvalidAddress when nothing is usable."""
    user, server = split_jid(value)
    if server == GROUP_SERVER:
        if not user:
            raise InvalidAddress(f"group id without a number: {value[:60]!r}")
        return f"{user}@{GROUP_SERVER}", True
    return person_number(value), False


def person_number(value: str) -> str:
    """A person's number (normalized when it is a dialable one; a privacy id's digits as they
    are). Raises InvalidAddress when there are no digits at all."""
    user, server = split_jid(value)
    if server != "lid":
        try:
            return normalize_number(user)
        except InvalidNumber:
            pass
    digits = "".join(ch for ch in user if ch.isdigit())
    if not digits:
        raise InvalidAddress(f"not a number or group id: {value[:60]!r}")
    return digits[:64]
