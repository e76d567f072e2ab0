"""The wonotify adapter: the gateway interface (base.GatewayAdapter) over wonotify's API.

A device's gateway token is the wonotify account's access token and its gateway instance the
instance id of its WhatsApp session. wonotify sends text and media by link, to people and to
groups; it has no polls, no location pins, no quoted replies and no file upload in its API, so
Sapa offers none of those on its devices. Its webhook bodies are undocumented (see
webhooks.py): experimental.

Operations beyond the interface: `device_reboot` (log out and scan afresh) and `device_reset`
(a new instance id, old data deleted), which answer the new id in `data["instance_id"]`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from ..base import (
    REASON_NO_TOKEN,
    REASON_NOT_SUPPORTED,
    Capabilities,
    GatewayAdapter,
    OperationResult,
    Outgoing,
    ParseError,
    SendResult,
    WebhookUrls,
)
from ..json_api import OPERATION_REASONS, load_webhook_json
from . import api, webhooks

if TYPE_CHECKING:
    from ...models import Device

# Waziper sends media by link and lets WhatsApp pick the kind by the file; these are the kinds
# WhatsApp carries as media or documents.
IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg"})
FILE_EXTENSIONS = IMAGE_EXTENSIONS | {
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "csv", "txt", "zip",
    "mp4", "3gp", "avi", "mp3", "ogg", "m4a",
}  # fmt: skip
# The largest file Sapa hands it (an agent's upload travels as a signed link it fetches):
# WhatsApp's media limit.
FILE_MAX_BYTES = 16 * 1000 * 1000


class WonotifyGateway(GatewayAdapter):
    kind = "wonotify"
    label = _("wonotify (experimental)")
    capabilities = Capabilities(
        can_send=True,
        files=True,
        file_upload=False,
        locations=False,
        polls=False,
        quotes=False,
        qr=True,
        connect=True,
        logout=True,
        reconnect=True,
        webhook_setup=True,
        delete=True,
        max_upload_bytes=FILE_MAX_BYTES,
        file_extensions=FILE_EXTENSIONS,
        image_extensions=IMAGE_EXTENSIONS,
    )
    # Sapa's own sentences: translated as they are, and explained for whoever asks by reason.
    own_reasons = frozenset(api.REASONS) | OPERATION_REASONS
    reasons = {reason.lower(): _(reason) for reason in own_reasons}
    # wonotify (Waziper) ignores the answer to its webhook: a body Sapa cannot parse is kept for
    # staff and answered 200 (UnparsedWebhook), never refused into the void.
    keeps_unparsed_webhooks = True

    def client(self, device: Device) -> api.WonotifyClient:
        return api.WonotifyClient(
            base_url=settings.WONOTIFY_API_URL, access_token=device.gateway_token
        )

    # --- Inbound ---------------------------------------------------------------------------------

    def parse(self, *, kind: str, body: bytes, content_type: str, device: Device):
        """One URL receives every event (Sapa gives wonotify the incoming one)."""
        try:
            data = load_webhook_json(body)
        except ValueError as exc:
            raise ParseError(str(exc)) from exc
        webhooks.check_instance(data, device.gateway_instance)
        return webhooks.parse(data)

    # --- Outbound --------------------------------------------------------------------------------

    def cannot_send_reason(self, *, device: Device) -> str:
        if not device.gateway_token:
            return REASON_NO_TOKEN
        return "" if device.gateway_instance else api.REASON_INSTANCE_MISSING

    def send(self, *, device: Device, outgoing: Outgoing) -> SendResult:
        if outgoing.kind not in ("text", "file"):
            # The capabilities keep these away; this is the server-side refusal behind them.
            return SendResult(
                ok=False, reason=REASON_NOT_SUPPORTED, permanent=True, certainly_not_sent=True
            )
        return self.client(device).send(
            instance_id=device.gateway_instance,
            target=outgoing.target,
            text=outgoing.text,
            media_url=outgoing.attachment_url,
            filename=outgoing.attachment_name,
        )

    # --- Device operations -----------------------------------------------------------------------

    def _missing(self, device: Device, *, instance: bool = True) -> OperationResult | None:
        if not device.gateway_token:
            return OperationResult(ok=False, reason=REASON_NO_TOKEN)
        if instance and not device.gateway_instance:
            return OperationResult(ok=False, reason=api.REASON_INSTANCE_MISSING)
        return None

    def device_connect(self, *, device: Device) -> OperationResult:
        """A device without an instance gets one (`data["instance_id"]`, for the caller to
        store); one that has it is already running at wonotify: scan its QR."""
        refused = self._missing(device, instance=False)
        if refused is not None:
            return refused
        if device.gateway_instance:
            return OperationResult(ok=True, data={"instance_id": device.gateway_instance})
        return self.client(device).create_instance()

    def device_qr(self, *, device: Device) -> OperationResult:
        return self._missing(device) or self.client(device).qr_code(
            instance_id=device.gateway_instance
        )

    def device_logout(self, *, device: Device) -> OperationResult:
        return self._missing(device) or self.client(device).logout(
            instance_id=device.gateway_instance
        )

    def device_reconnect(self, *, device: Device) -> OperationResult:
        return self._missing(device) or self.client(device).reconnect(
            instance_id=device.gateway_instance
        )

    def device_reboot(self, *, device: Device) -> OperationResult:
        return self._missing(device) or self.client(device).reboot(
            instance_id=device.gateway_instance
        )

    def device_reset(self, *, device: Device) -> OperationResult:
        return self._missing(device) or self.client(device).reset(
            instance_id=device.gateway_instance
        )

    def device_delete(self, *, device: Device, otp: str = "") -> OperationResult:
        """wonotify deletes an instance's data by resetting it (it gets a new id)."""
        return self.device_reset(device=device)

    def device_set_webhooks(self, *, device: Device, urls: WebhookUrls) -> OperationResult:
        """One webhook per instance, for every event: the incoming URL."""
        return self._missing(device) or self.client(device).set_webhook(
            instance_id=device.gateway_instance, url=urls.incoming
        )
