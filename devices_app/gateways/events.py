"""Normalized inbound events: what every gateway's webhook parser produces.

The `chats` services only ever see these, never a provider's payload; adding a gateway means
writing an adapter (base.GatewayAdapter), not touching the services (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


class EventRefused(ValueError):
    """A webhook body that cannot become a stored event; the message says why, for the person
    configuring the gateway. Raised by parsers, and by the core before it writes anything
    (`chats.services.storable`); the webhook view answers 400 with the message."""


@dataclass(frozen=True)
class IncomingMessage:
    """A message that arrived on a device (from a customer, a group, or typed on the phone)."""

    sender: str  # the chat: a normalized number, or a group id (…@g.us)
    text: str = ""
    sender_name: str = ""
    is_group: bool = False
    author: str = ""  # in groups, who wrote it
    # The gateway's own id of this message when it gives one: the dedupe key of a retried
    # webhook (DESIGN "Idempotency"). `inbox_id` is the numeric id the gateway quotes by.
    message_id: str = ""
    inbox_id: int | None = None
    timestamp: datetime | None = None
    kind: str = "text"  # the gateway's message type (text, image, location, poll…)
    attachment_url: str = ""
    attachment_name: str = ""
    attachment_extension: str = ""
    location: tuple[Decimal, Decimal] | None = None
    poll_name: str = ""
    poll_choices: tuple[str, ...] = ()
    # A vote on a poll (`poll_name` is the poll's question, `poll_choices` the answer), not a
    # poll the customer created.
    is_poll_vote: bool = False
    is_forwarded: bool = False
    is_self: bool = False  # typed on the business phone itself (Fonnte "quick")
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery update for a message Sapa sent. Either id may be missing (Fonnte §5)."""

    message_id: str = ""
    state_id: str = ""
    status: str = ""  # the gateway's processing status, in its own words (kept for reading)
    state: str = ""  # the WhatsApp-side state, in the gateway's own words
    # What the update proves, normalized by the adapter: "sent", "delivered", "read", "failed"
    # (base.DELIVERY_*), or "" when it proves nothing yet (still queued at the gateway).
    delivery: str = ""
    failure_reason: str = ""  # with "failed": the gateway's word for it
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectionChange:
    connected: bool
    reason: str = ""
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)
