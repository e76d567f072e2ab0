"""The registry: `Device.gateway` → its adapter (docs/ARCHITECTURE.md "The gateway interface").

The one module the core imports to reach a gateway. Adding a gateway: write its adapter (a
base.GatewayAdapter), add it to ADAPTERS and to `Device.Gateway`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .apiwago import ApiWagoGateway
from .base import OWN_REASONS, Capabilities, GatewayAdapter
from .fonnte import FonnteGateway
from .sandbox import SandboxGateway
from .wonotify import WonotifyGateway

if TYPE_CHECKING:
    from ..models import Device

ADAPTERS: dict[str, GatewayAdapter] = {
    adapter.kind: adapter
    for adapter in (FonnteGateway(), SandboxGateway(), ApiWagoGateway(), WonotifyGateway())
}


class UnknownGateway(LookupError):
    pass


def gateway_named(kind: str) -> GatewayAdapter:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise UnknownGateway(kind) from None


def gateway_for(device: Device) -> GatewayAdapter:
    """The adapter of a device's gateway."""
    return gateway_named(device.gateway)


def kinds_speaking_like(kind: str) -> tuple[str, ...]:
    """The gateway kinds whose webhooks a URL under `kind` may carry: those of one protocol
    (a sandbox device answers under /hooks/fonnte/ and a Fonnte device under /hooks/sandbox/)."""
    protocol = gateway_named(kind).protocol or kind
    return tuple(k for k, a in ADAPTERS.items() if (a.protocol or k) == protocol)


def capabilities_for(device: Device) -> Capabilities:
    return gateway_for(device).capabilities


def reason_is_own(reason: str) -> bool:
    """Whether a stored reason is one Sapa wrote (base.REASON_*, an adapter's cannot-send
    reason or own reasons): translate it with gettext."""
    return reason in OWN_REASONS or any(
        reason == a.capabilities.cannot_send_reason or reason in a.own_reasons
        for a in ADAPTERS.values()
        if reason
    )


def reason_text(reason: str) -> str | None:
    """A gateway's own failure reason explained in words (current language), or None."""
    for adapter in ADAPTERS.values():
        explained = adapter.reason_text(reason)
        if explained is not None:
            return str(explained)
    return None


def common_limits() -> Capabilities:
    """The text and attachment limits every sending gateway accepts (for checks made before a
    device is known: quick-reply templates, the reply box's accept list)."""
    senders = [a.capabilities for a in ADAPTERS.values() if a.capabilities.files]
    extensions = frozenset.intersection(*(c.file_extensions for c in senders))
    return Capabilities(
        files=True,
        file_upload=all(c.file_upload for c in senders),
        max_upload_bytes=min(c.max_upload_bytes for c in senders),
        max_text_length=min(
            a.capabilities.max_text_length for a in ADAPTERS.values() if a.capabilities.can_send
        ),
        file_extensions=extensions,
        image_extensions=frozenset().union(*(c.image_extensions for c in senders)) & extensions,
    )
