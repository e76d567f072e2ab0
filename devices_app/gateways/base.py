"""The gateway interface: everything the core may ask of a WhatsApp gateway (docs/ARCHITECTURE.md
"The gateway interface").

Each provider (Fonnte, the sandbox, ApiWago, wonotify) is one `GatewayAdapter` subclass, found
through `devices_app.gateways.registry` by `Device.gateway`. The core (`chats`) speaks only the
words defined here: normalized webhook events (`events.py`), an `Outgoing` message, a
`SendResult` whose `outcome` is one of four, `Capabilities`, and `OperationResult` for device
operations. It never sees a provider's field names, status words or error strings; an adapter
never imports the core.

Adapters are pure protocol code: they parse bodies, make HTTP calls and classify answers. They
write nothing to the database and push nothing; the caller (a core service) does that.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext_noop

from .events import ConnectionChange, EventRefused, IncomingMessage, StatusUpdate

if TYPE_CHECKING:
    from ..models import Device

Event = IncomingMessage | StatusUpdate | ConnectionChange

# The webhook URLs a gateway may call: /hooks/<gateway>/<webhook key>/<kind>.
WEBHOOK_INCOMING = "incoming"
WEBHOOK_STATUS = "status"
WEBHOOK_CONNECT = "connect"
WEBHOOK_KINDS = (WEBHOOK_INCOMING, WEBHOOK_STATUS, WEBHOOK_CONNECT)

# Normalized delivery words a status update may carry (`StatusUpdate.delivery`); they are the
# outbound message statuses of the core, in the order a message reaches them.
DELIVERY_SENT = "sent"
DELIVERY_DELIVERED = "delivered"
DELIVERY_READ = "read"
DELIVERY_FAILED = "failed"

# Reasons Sapa writes itself, whatever the gateway. Untranslated message ids: the message row
# keeps them and the page translates them (`registry.reason_is_own`).
REASON_UNREACHABLE = gettext_noop("The gateway could not be reached.")
REASON_UNCONFIRMED_TIMEOUT = gettext_noop(
    "The gateway did not answer in time; the message may have been sent."
)
REASON_UNCONFIRMED_DROPPED = gettext_noop(
    "The connection to the gateway broke after the message was handed over; it may have been sent."
)
REASON_UNCONFIRMED_GARBLED = gettext_noop(
    "The gateway's answer could not be read; the message may have been sent."
)
REASON_HTTP_ERROR = gettext_noop("The gateway answered with an error.")
REASON_BAD_GATEWAY_URL = gettext_noop("The gateway address is misconfigured.")
REASON_NOT_SUPPORTED = gettext_noop("This gateway does not offer this operation.")
REASON_CANNOT_SEND = gettext_noop("Sending through this gateway is not supported yet.")
REASON_NO_TOKEN = gettext_noop("The device has no gateway token.")

OWN_REASONS = frozenset(
    {
        REASON_UNREACHABLE,
        REASON_UNCONFIRMED_TIMEOUT,
        REASON_UNCONFIRMED_DROPPED,
        REASON_UNCONFIRMED_GARBLED,
        REASON_HTTP_ERROR,
        REASON_BAD_GATEWAY_URL,
        REASON_NOT_SUPPORTED,
        REASON_CANNOT_SEND,
        REASON_NO_TOKEN,
    }
)


class ParseError(EventRefused):
    """The body is not a webhook of the expected kind; the message says why (answered 400)."""


# --- Capabilities -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    """What a gateway can carry out. The workspace and admin read these, so nobody is offered a
    button the device's gateway cannot do; the core refuses the same things server-side."""

    can_send: bool = True
    files: bool = False  # attachments the gateway fetches from a link
    file_upload: bool = False  # attachments posted with the request
    locations: bool = False
    polls: bool = False
    quotes: bool = False
    # Device operations (see GatewayAdapter).
    profile: bool = False
    qr: bool = False
    pairing_code: bool = False
    connect: bool = False
    logout: bool = False
    reconnect: bool = False
    webhook_setup: bool = False
    delete: bool = False
    device_list: bool = False
    # Limits of what it sends.
    max_text_length: int = 60_000
    max_upload_bytes: int = 0
    file_extensions: frozenset[str] = frozenset()
    image_extensions: frozenset[str] = frozenset()  # those whose bytes must be an image
    # Why the gateway cannot send (shown in the workspace instead of the reply box).
    cannot_send_reason: str = ""


# --- Sending ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file posted with the send request itself (by upload, not by link)."""

    name: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class OutgoingPoll:
    question: str
    choices: Sequence[str]
    multiple: bool = False


@dataclass(frozen=True)
class Outgoing:
    """One message to send. Exactly one kind: a poll, a location, a file (link or upload, with
    `text` as caption) or plain text. `quote_id` is the gateway's own id of the inbound message
    to quote (`IncomingMessage.inbox_id`); None sends it unquoted."""

    target: str
    text: str = ""
    attachment_url: str = ""
    attachment_name: str = ""
    upload: Upload | None = None
    location: tuple[Decimal, Decimal] | None = None
    poll: OutgoingPoll | None = None
    quote_id: int | None = None

    @property
    def kind(self) -> str:
        if self.poll is not None:
            return "poll"
        if self.location is not None:
            return "location"
        if self.upload is not None:
            return "upload"
        if self.attachment_url:
            return "file"
        return "text"


class SendOutcome(enum.Enum):
    SENT = "sent"  # accepted; `message_ids` holds the gateway's ids
    REFUSED = "refused"  # permanent: the same request will be refused again (reason in words)
    RETRYABLE = "retryable"  # certainly created nothing: repeating is safe
    UNKNOWN = "unknown"  # the request may have reached the gateway: never repeat on our own


@dataclass(frozen=True)
class SendResult:
    """What became of one send request (docs/ARCHITECTURE.md "Delivery semantics").

    - ok: the gateway accepted the message (`message_ids` holds its ids, one per target).
    - permanent: refused, and the same request will be refused again (bad token, target…).
    - certainly_not_sent: no message was created, so repeating the request is safe.
    - neither ok nor certainly_not_sent: the outcome is unknown.
    `reason` is the gateway's own words, or one of the REASON_* ids above.
    """

    ok: bool
    message_ids: list[str] = field(default_factory=list)
    reason: str = ""
    permanent: bool = False
    certainly_not_sent: bool = False
    http_status: int | None = None
    request_id: str = ""
    detail: str = ""

    @property
    def unknown(self) -> bool:
        return not self.ok and not self.certainly_not_sent

    @property
    def outcome(self) -> SendOutcome:
        if self.ok:
            return SendOutcome.SENT
        if self.permanent:
            return SendOutcome.REFUSED
        if self.certainly_not_sent:
            return SendOutcome.RETRYABLE
        return SendOutcome.UNKNOWN


# --- Device operations --------------------------------------------------------------------------


@dataclass(frozen=True)
class OperationResult:
    """The answer to a device operation. `reason` says in words why it failed (the gateway's
    own text, or a REASON_* id); `data` holds what the operation returns (a profile, a QR image
    as a data URL under "qr", a pairing code under "code", a device list under "devices")."""

    ok: bool
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookUrls:
    """Sapa's webhook URLs for one device, by kind (WEBHOOK_KINDS)."""

    incoming: str
    status: str
    connect: str


NOT_SUPPORTED = OperationResult(ok=False, reason=REASON_NOT_SUPPORTED)


class GatewayAdapter:
    """One gateway provider. Subclasses set `kind` (a `Device.Gateway` value), `label` and
    `capabilities`, and override what the gateway has; what it lacks answers NOT_SUPPORTED
    (and its capability stays False, so no page offers it)."""

    kind: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    # The wire protocol it speaks (its own kind unless it imitates another, as the sandbox
    # speaks Fonnte's): webhook URLs under any kind of one protocol reach the same devices.
    protocol: ClassVar[str] = ""
    # Gateway failure reasons (lower case) → what they mean, in words, for agents and admins.
    reasons: ClassVar[dict[str, str]] = {}
    # Reasons the adapter writes itself in Sapa's words (message ids, like base.REASON_*): the
    # page translates them as they are.
    own_reasons: ClassVar[frozenset[str]] = frozenset()
    # True for a gateway that ignores the answer to its webhook (it never retries a refusal): a
    # body its adapter cannot parse is then kept for staff and answered 200, not refused.
    keeps_unparsed_webhooks: ClassVar[bool] = False

    # Inbound: one call per webhook request.
    def parse(self, *, kind: str, body: bytes, content_type: str, device: Device) -> list[Event]:
        """Parse one webhook body of `kind` (WEBHOOK_KINDS) posted for `device` into normalized
        events (possibly none: a body that is valid but says nothing Sapa tracks). Raises
        ParseError with a reason for the person configuring the gateway."""
        raise ParseError(f"{self.label} does not call a {kind!r} webhook")

    # Outbound.
    def cannot_send_reason(self, *, device: Device) -> str:
        """Why nothing can be sent through this device at all (checked before a send is
        attempted, so such a reply fails at once instead of counting as an attempt), or ""."""
        if not self.capabilities.can_send:
            return self.capabilities.cannot_send_reason or REASON_CANNOT_SEND
        return ""

    def send(self, *, device: Device, outgoing: Outgoing) -> SendResult:
        """Send one message and classify the answer (never raises for what the network or the
        gateway did)."""
        return SendResult(
            ok=False, reason=REASON_CANNOT_SEND, permanent=True, certainly_not_sent=True
        )

    def reason_text(self, reason: str) -> str | None:
        """The gateway's failure reason explained in words (lazy translation), or None."""
        return self.reasons.get(reason.strip().lower())

    # Device operations.
    def device_profile(self, *, device: Device) -> OperationResult:
        """Connection status, quota, expiry, package as the gateway reports them."""
        return NOT_SUPPORTED

    def device_qr(self, *, device: Device) -> OperationResult:
        return NOT_SUPPORTED

    def device_pairing_code(self, *, device: Device, phone: str) -> OperationResult:
        return NOT_SUPPORTED

    def device_connect(self, *, device: Device) -> OperationResult:
        """Start the gateway's session for this device (self-hosted gateways)."""
        return NOT_SUPPORTED

    def device_logout(self, *, device: Device) -> OperationResult:
        return NOT_SUPPORTED

    def device_reconnect(self, *, device: Device) -> OperationResult:
        return NOT_SUPPORTED

    def device_set_webhooks(self, *, device: Device, urls: WebhookUrls) -> OperationResult:
        return NOT_SUPPORTED

    def device_delete(self, *, device: Device, otp: str = "") -> OperationResult:
        return NOT_SUPPORTED

    def devices_list(self, *, account_token: str) -> OperationResult:
        return NOT_SUPPORTED
