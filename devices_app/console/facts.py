"""What the console shows about each gateway's settings: where each of Sapa's webhook URLs goes
(the exact field name in the gateway's API or dashboard), and whether deleting a device takes a
code. Keys are `Device.Gateway` values; a gateway missing here shows the URLs without names."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from ..gateways.base import WEBHOOK_CONNECT, WEBHOOK_INCOMING, WEBHOOK_STATUS


@dataclass(frozen=True)
class GatewayFacts:
    # Webhook kind → (field name in the gateway, where that field is).
    webhook_fields: dict[str, tuple[str, str]] = field(default_factory=dict)
    delete_needs_code: bool = False
    # Whether a token is the gateway's to issue, so saving a device checks it with the gateway's
    # profile. ApiWago's session key is any string staff choose; the sandbox's is Sapa's own.
    token_issued_by_gateway: bool = False


FONNTE_DEVICE_EDIT = _("Fonnte dashboard → Device → Edit")

FACTS: dict[str, GatewayFacts] = {
    "fonnte": GatewayFacts(
        webhook_fields={
            WEBHOOK_INCOMING: ("webhook", FONNTE_DEVICE_EDIT),
            WEBHOOK_STATUS: ("webhookstatus", FONNTE_DEVICE_EDIT),
            WEBHOOK_CONNECT: ("webhookconnect", FONNTE_DEVICE_EDIT),
        },
        delete_needs_code=True,
        token_issued_by_gateway=True,
    ),
    # ApiWago keeps one webhook per session, for messages and receipts alike.
    "apiwago": GatewayFacts(
        webhook_fields={WEBHOOK_INCOMING: ("url", _("ApiWago: POST /api/webhook"))},
    ),
    "wonotify": GatewayFacts(
        webhook_fields={WEBHOOK_INCOMING: ("webhook_url", _("wonotify: set_webhook"))},
    ),
    # The sandbox calls Sapa's own URLs by itself.
    "sandbox": GatewayFacts(),
}


def facts_for(kind: str) -> GatewayFacts:
    return FACTS.get(kind, GatewayFacts())
