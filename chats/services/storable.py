"""Fit a parsed incoming event into the columns it is stored in, whatever gateway parsed it.

The parsers read a provider's fields leniently; this is the one place that knows the columns.
Display text is shortened to fit and an id Sapa only keeps for reference is dropped when it
does not fit, since the raw body keeps the original; an address that does not fit cannot be
shortened without writing to someone else, so it is refused before anything is written
(`EventRefused`, answered 400 by the webhook view). Text is cleaned again here
(`devices_app.untrusted`) for parsers that do not clean their bodies themselves.
See docs/RELIABILITY.md "Webhooks that cannot be lost" and docs/SECURITY.md.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from devices_app.gateways.events import EventRefused, IncomingMessage
from devices_app.untrusted import Unstorable, clean_json, clean_text

from ..models import Contact, Message

BIGINT_MAX = 2**63 - 1
# Links the thread may render: anything else (javascript:, data:) is kept only in the raw body.
WEB_SCHEMES = ("http", "https")


def _max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def _fit(value: str, model, field: str) -> str:
    return clean_text(value)[: _max_length(model, field)]


def _address(value: str, name: str) -> str:
    value = clean_text(value)
    limit = _max_length(Contact, "address")
    if len(value) > limit:
        raise EventRefused(f"'{name}' is longer than {limit} characters: {value[:40]!r}…")
    return value


def _web_link(url: str) -> str:
    url = clean_text(url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.netloc:
        return ""
    if len(url) > _max_length(Message, "attachment_url"):
        return ""
    return url


def raw_storable(raw: dict) -> dict:
    """The raw body as both databases store it; raises EventRefused when nested too deeply.
    (Parsers that load their bodies through `devices_app.untrusted` pass it clean already.)"""
    try:
        return clean_json(raw)
    except Unstorable as exc:
        raise EventRefused(str(exc)) from exc


def incoming_storable(event: IncomingMessage) -> IncomingMessage:
    """`event` with every field fitting its column; raises EventRefused for an address that
    does not fit (sender, or a group member as author) or a raw body nested too deeply."""
    inbox_id = event.inbox_id if event.inbox_id and 0 < event.inbox_id <= BIGINT_MAX else None
    return replace(
        event,
        sender=_address(event.sender, "sender"),
        author=_address(event.author, "member"),
        text=clean_text(event.text),
        sender_name=_fit(event.sender_name, Message, "author_name"),
        inbox_id=inbox_id,
        kind=clean_text(event.kind)[:32],
        attachment_url=_web_link(event.attachment_url),
        attachment_name=_fit(event.attachment_name, Message, "attachment_name"),
        attachment_extension=_fit(event.attachment_extension, Message, "attachment_extension"),
        poll_name=_fit(event.poll_name, Message, "poll_name"),
        poll_choices=tuple(clean_text(choice) for choice in event.poll_choices),
        raw=raw_storable(event.raw),
    )
