"""Coordinates as people type and paste them: a decimal point or a decimal comma ("-6,2088", as
Indonesian agents write numbers), and a "latitude, longitude" pair copied from a map. Used by the
reply box's location (chats.services.outbound.location_clean) and the quick-reply admin."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_NUMBER = r"[-+]?\d+(?:[.,]\d+)?"
# "-6.1,106.8" (decimal points, no space) or any numbers split by "; ", a space, or ", ".
_PAIR = re.compile(
    rf"^\s*(?:([-+]?\d+\.\d+),([-+]?\d+\.\d+)|({_NUMBER})\s*(?:[;\s]|,\s)\s*({_NUMBER}))\s*$"
)


def decimal_from_text(value: object) -> Decimal | None:
    """The number typed, with a decimal point or a decimal comma; None when it is not one."""
    typed = str(value if value is not None else "").strip()
    if "," in typed and "." not in typed:
        typed = typed.replace(",", ".", 1)
    try:
        number = Decimal(typed)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def pair_from_text(value: object) -> tuple[str, str] | None:
    """("-6.175392", "106.827153") from "-6.175392, 106.827153"; None when it is not a pair (a
    lone comma between digits is a decimal comma)."""
    match = _PAIR.match(str(value or ""))
    if match is None:
        return None
    first, second = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
    return first, second
