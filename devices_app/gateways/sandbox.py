"""The sandbox adapter: Fonnte's protocol, spoken to Sapa's own simulator (devices_app/sandbox/,
an interface module above the core; docs/ARCHITECTURE.md "Gateways").

Only the base URL and the device operations differ from Fonnte: the simulator answers `/send`,
`/device` and `/qr`, and calls Sapa's own status webhook after a send.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .base import NOT_SUPPORTED, Capabilities, OperationResult, WebhookUrls
from .fonnte import SEND_CAPABILITIES, FonnteGateway

if TYPE_CHECKING:
    from ..models import Device


class SandboxGateway(FonnteGateway):
    kind = "sandbox"
    protocol = "fonnte"
    label = _("Sandbox (simulated)")
    capabilities = Capabilities(**SEND_CAPABILITIES, profile=True, qr=True)

    def base_url(self) -> str:
        return f"{settings.PUBLIC_BASE_URL}/sandbox/fonnte"

    # The simulator has no session to log out, no webhook settings (it calls Sapa's own URLs)
    # and no account: these stay off, as its capabilities say.
    def device_logout(self, *, device: Device) -> OperationResult:
        return NOT_SUPPORTED

    def device_set_webhooks(self, *, device: Device, urls: WebhookUrls) -> OperationResult:
        return NOT_SUPPORTED

    def device_delete(self, *, device: Device, otp: str = "") -> OperationResult:
        return NOT_SUPPORTED

    def devices_list(self, *, account_token: str) -> OperationResult:
        return NOT_SUPPORTED
