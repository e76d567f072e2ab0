"""Phone numbers as WhatsApp gateways write them: digits only, country code first (6281…)."""

from __future__ import annotations

import phonenumbers
from django.conf import settings


class InvalidNumber(ValueError):
    pass


def normalize_number(raw: str, *, region: str | None = None) -> str:
    """`0812…`, `62812…`, `+62 812-…` → `62812…`. Raises InvalidNumber for anything else."""
    text = (raw or "").strip()
    if not text:
        raise InvalidNumber("empty number")
    digits = "".join(ch for ch in text if ch.isdigit())
    region = region or settings.PHONE_REGION
    # Gateways drop the "+": a number that already starts with a country code reads as
    # international when a "+" is put back; a leading 0 is a national number of `region`.
    candidate = text if text.startswith("+") or digits.startswith("0") else f"+{digits}"
    try:
        parsed = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(str(exc)) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidNumber("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def display_number(number: str) -> str:
    """`6281234567890` → `+62 812-3456-7890` for people to read."""
    try:
        parsed = phonenumbers.parse(f"+{number}", None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
