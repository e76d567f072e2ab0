"""Untrusted text and JSON made storable: one cleaning step at each boundary.

Gateway bodies and browser form values reach the database as text and JSON, and both
databases refuse some of what JSON and HTTP allow: PostgreSQL stores no NUL (U+0000) in text
or jsonb; neither database encodes a lone surrogate (JSON's "\\ud800"); `NaN` and `Infinity`,
which Python's JSON reader accepts (and produces for 1e999), are not JSON; a body nested a
thousand levels deep exceeds the recursion limits of the encoders. A webhook that hits one of
these answers 500, the gateway retries it and then drops it for good (docs/RELIABILITY.md
"Webhooks that cannot be lost"), so the webhook parsers and the form middleware
(`config.middleware`) run everything through here first.

What is cleaned rather than refused: NUL is removed, a lone surrogate becomes U+FFFD, a
non-finite number becomes its name as text ("NaN", "Infinity"). Only a body nested deeper
than MAX_JSON_DEPTH is refused: no gateway sends one, and there is no honest way to shorten it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_JSON_DEPTH = 64
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class Unstorable(ValueError):
    """The input cannot be made storable; the message says why, for the sender to read."""


def clean_text(value: str) -> str:
    """`value` without NUL characters and with each lone surrogate replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return _LONE_SURROGATE.sub("\ufffd", value)


def _non_finite_name(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    return "Infinity" if number > 0 else "-Infinity"


def clean_json(value: Any, *, depth: int = 0) -> Any:
    """A copy of a decoded JSON value that both databases store. Raises Unstorable when it is
    nested deeper than MAX_JSON_DEPTH. Keys that become equal once cleaned keep the first."""
    if depth > MAX_JSON_DEPTH:
        raise Unstorable(f"body is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return _non_finite_name(value)
    if isinstance(value, dict):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            cleaned.setdefault(clean_text(str(key)), clean_json(item, depth=depth + 1))
        return cleaned
    if isinstance(value, (list, tuple)):
        return [clean_json(item, depth=depth + 1) for item in value]
    return value


def load_json(raw: bytes | str) -> Any:
    """Decode JSON and clean it (see `clean_json`). Raises Unstorable with the reason when the
    bytes are not JSON or are nested too deeply."""
    try:
        data = json.loads(raw)
    except RecursionError as exc:
        raise Unstorable(f"body is nested deeper than {MAX_JSON_DEPTH} levels") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unstorable(f"body is not valid JSON ({exc})") from exc
    return clean_json(data)
