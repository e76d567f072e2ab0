"""The ApiWago adapter: the gateway interface (base.GatewayAdapter) over ApiWago's API.

A device's gateway token is its ApiWago session token; the server's address and API key are
settings (APIWAGO_API_URL, APIWAGO_API_KEY), as one self-hosted server serves every session.

What ApiWago has not, Sapa does not offer: no location pins and no quoted replies (its send
API has neither). Polls and attachments by link are sent; an uploaded file travels as a
`data:` URI in `file_url`, which the gateway decodes itself.
"""

from __future__ import annotations

import base64
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

# ApiWago sends any file type, choosing image / video / audio / document by its content type;
# `image/webp` becomes a sticker, so WebP is left out. Listed here so the reply box says what
# it takes (the sizes are WhatsApp's own limits for what it carries, documents the smallest).
IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif"})
FILE_EXTENSIONS = IMAGE_EXTENSIONS | {
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "csv", "txt", "zip",
    "mp4", "3gp", "mov", "avi", "mp3", "ogg", "m4a", "wav",
}  # fmt: skip
UPLOAD_MAX_BYTES = 16 * 1000 * 1000

REASON_NOT_CONFIGURED = api.REASON_NOT_CONFIGURED


class ApiWagoGateway(GatewayAdapter):
    kind = "apiwago"
    label = _("ApiWago (self-hosted)")
    capabilities = Capabilities(
        can_send=True,
        files=True,
        file_upload=True,
        locations=False,
        polls=True,
        quotes=False,
        profile=True,
        qr=True,
        pairing_code=True,
        connect=True,
        logout=True,
        reconnect=True,
        webhook_setup=True,
        delete=True,
        device_list=True,
        max_upload_bytes=UPLOAD_MAX_BYTES,
        file_extensions=FILE_EXTENSIONS,
        image_extensions=IMAGE_EXTENSIONS,
    )
    # Sapa's own sentences: translated as they are, and explained for whoever asks by reason.
    own_reasons = frozenset(api.REASONS) | OPERATION_REASONS
    reasons = {reason.lower(): _(reason) for reason in own_reasons}
    # ApiWago never looks at the answer to its webhook (only a transport error makes it try
    # again), so a body Sapa cannot parse is kept for staff and answered 200 (UnparsedWebhook).
    keeps_unparsed_webhooks = True

    def client(self) -> api.ApiWagoClient:
        return api.ApiWagoClient(
            base_url=settings.APIWAGO_API_URL, api_key=settings.APIWAGO_API_KEY
        )

    # --- Inbound ---------------------------------------------------------------------------------

    def parse(self, *, kind: str, body: bytes, content_type: str, device: Device):
        """ApiWago posts messages and receipts to one URL (Sapa gives it the incoming one): any
        kind is parsed by the body's own `event`."""
        try:
            data = load_webhook_json(body)
        except ValueError as exc:
            raise ParseError(str(exc)) from exc
        webhooks.check_token(data, device.gateway_token)
        return webhooks.parse(data)

    # --- Outbound --------------------------------------------------------------------------------

    def cannot_send_reason(self, *, device: Device) -> str:
        if not settings.APIWAGO_API_URL:
            return REASON_NOT_CONFIGURED
        return "" if device.gateway_token else REASON_NO_TOKEN

    def send(self, *, device: Device, outgoing: Outgoing) -> SendResult:
        refused = self._refuse_unsupported(outgoing)
        if refused is not None:
            return refused
        client, token, phone = self.client(), device.gateway_token, outgoing.target
        if outgoing.poll is not None:
            return client.send_poll(
                token=token,
                phone=phone,
                question=outgoing.poll.question,
                choices=outgoing.poll.choices,
                multiple=outgoing.poll.multiple,
            )
        if outgoing.upload is not None:
            upload = outgoing.upload
            data_uri = (
                f"data:{upload.content_type};base64,{base64.b64encode(upload.content).decode()}"
            )
            return client.send_file(
                token=token, phone=phone, url=data_uri, filename=upload.name, caption=outgoing.text
            )
        if outgoing.attachment_url:
            return client.send_file(
                token=token,
                phone=phone,
                url=outgoing.attachment_url,
                filename=outgoing.attachment_name,
                caption=outgoing.text,
            )
        return client.send_text(token=token, phone=phone, text=outgoing.text)

    @staticmethod
    def _refuse_unsupported(outgoing: Outgoing) -> SendResult | None:
        # The capabilities keep these buttons away; this is the server-side refusal behind them.
        # A quote is not refused: the reply goes out unquoted, as on Fonnte without an inbox id.
        if outgoing.location is not None:
            return SendResult(
                ok=False, reason=REASON_NOT_SUPPORTED, permanent=True, certainly_not_sent=True
            )
        return None

    # --- Device operations -----------------------------------------------------------------------

    def _token(self, device: Device) -> OperationResult | None:
        if not settings.APIWAGO_API_URL:
            return OperationResult(ok=False, reason=REASON_NOT_CONFIGURED)
        if not device.gateway_token:
            return OperationResult(ok=False, reason=REASON_NO_TOKEN)
        return None

    def device_profile(self, *, device: Device) -> OperationResult:
        return self._token(device) or self.client().status(token=device.gateway_token)

    def device_connect(self, *, device: Device) -> OperationResult:
        """Start the session, rejecting calls as the device's settings say (a chat desk cannot
        take calls: by default they are rejected with no message)."""
        return self._token(device) or self.client().start_session(
            token=device.gateway_token,
            reject_call=settings.APIWAGO_REJECT_CALLS,
            reject_message=settings.APIWAGO_REJECT_MESSAGE,
        )

    def device_qr(self, *, device: Device) -> OperationResult:
        """The QR to scan; a session that was never started is started first (ApiWago shows no
        QR before `/api/start`)."""
        refused = self._token(device)
        if refused is not None:
            return refused
        client = self.client()
        result = client.qr_code(token=device.gateway_token)
        if result.reason == api.REASON_SESSION_NOT_STARTED:
            started = self.device_connect(device=device)
            if not started.ok:
                return started
            result = client.qr_code(token=device.gateway_token)
        return result

    def device_pairing_code(self, *, device: Device, phone: str) -> OperationResult:
        return self._token(device) or self.client().pairing_code(
            token=device.gateway_token, phone=phone or device.number
        )

    def device_logout(self, *, device: Device) -> OperationResult:
        return self._token(device) or self.client().logout(token=device.gateway_token)

    def device_reconnect(self, *, device: Device) -> OperationResult:
        return self._token(device) or self.client().reconnect(token=device.gateway_token)

    def device_set_webhooks(self, *, device: Device, urls: WebhookUrls) -> OperationResult:
        """ApiWago has one webhook per session, for messages and receipts alike: the incoming
        URL (this adapter parses every kind by the body's `event`)."""
        return self._token(device) or self.client().set_webhook(
            token=device.gateway_token, url=urls.incoming
        )

    def device_delete(self, *, device: Device, otp: str = "") -> OperationResult:
        return self._token(device) or self.client().delete(token=device.gateway_token)

    def devices_list(self, *, account_token: str) -> OperationResult:
        """Every session on the server (ApiWago has no accounts: the API key sees them all)."""
        if not settings.APIWAGO_API_URL:
            return OperationResult(ok=False, reason=REASON_NOT_CONFIGURED)
        return self.client().list_devices(limit=500)
