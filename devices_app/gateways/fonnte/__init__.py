"""The Fonnte adapter (docs/ARCHITECTURE.md "Gateways" and "Fonnte's protocol").

- send.py: `POST /send` and the classification of its answers
- webhooks.py: the three webhook bodies → normalized events
- devices.py: the device and account APIs
This package holds every Fonnte field name, status word and error reason Sapa knows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from ..base import (
    REASON_NO_TOKEN,
    WEBHOOK_CONNECT,
    WEBHOOK_INCOMING,
    WEBHOOK_STATUS,
    Capabilities,
    GatewayAdapter,
    OperationResult,
    Outgoing,
    ParseError,
    SendResult,
    WebhookUrls,
)
from . import device_reasons, devices, webhooks
from .send import MAX_TEXT_LENGTH, FonnteClient, payload_for

if TYPE_CHECKING:
    from ...models import Device

# Fonnte's supported attachment extensions (docs/ARCHITECTURE.md "Fonnte's protocol").
IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg"})
FILE_EXTENSIONS = IMAGE_EXTENSIONS | {
    "xlsx", "xls", "pdf", "doc", "docx", "ppt", "pptx", "csv", "mp4", "avi", "mp3",
}  # fmt: skip
# "file size must under 4MB": read as decimal megabytes, the strict reading, so a file we accept
# is never refused by the gateway.
UPLOAD_MAX_BYTES = 4 * 1000 * 1000

SEND_CAPABILITIES = dict(
    can_send=True,
    files=True,
    file_upload=True,
    locations=True,
    polls=True,
    quotes=True,
    max_text_length=MAX_TEXT_LENGTH,
    max_upload_bytes=UPLOAD_MAX_BYTES,
    file_extensions=FILE_EXTENSIONS,
    image_extensions=IMAGE_EXTENSIONS,
)

# Fonnte's own reasons, explained for agents and admins (docs/ARCHITECTURE.md "Fonnte's
# protocol").
REASONS = {
    "token invalid": _("The gateway refused the device token."),
    "target invalid": _("The customer's number was refused by the gateway."),
    "input invalid": _("The gateway refused the message as invalid."),
    "insufficient quota": _("The device's message quota is used up."),
    "devices must belong to an account": _("The device tokens belong to different accounts."),
    "url invalid": _("The attachment link was refused by the gateway."),
    "url unreachable": _("The gateway could not fetch the attachment."),
    "file format not supported": _("The gateway does not support this file type."),
    "file size must under 4mb": _("The file is larger than the gateway's 4 MB limit."),
    "json format invalid": _("The gateway could not read the request."),
}

PARSERS = {
    WEBHOOK_INCOMING: webhooks.parse_incoming,
    WEBHOOK_STATUS: webhooks.parse_status,
    WEBHOOK_CONNECT: webhooks.parse_connection,
}


class FonnteGateway(GatewayAdapter):
    kind = "fonnte"
    protocol = "fonnte"
    label = "Fonnte"
    capabilities = Capabilities(
        **SEND_CAPABILITIES,
        profile=True,
        qr=True,
        logout=True,
        webhook_setup=True,
        delete=True,
        device_list=True,
    )
    reasons = REASONS

    def base_url(self) -> str:
        return settings.FONNTE_API_URL

    def reason_text(self, reason: str) -> str | None:
        return super().reason_text(reason) or device_reasons.explain(reason)

    def parse(self, *, kind: str, body: bytes, content_type: str, device: Device):
        parser = PARSERS.get(kind)
        if parser is None:
            raise ParseError(f"unknown webhook kind {kind!r}")
        data = webhooks.load_body(body, content_type)
        webhooks.check_device(data, device.number)
        return [parser(data)]

    def cannot_send_reason(self, *, device: Device) -> str:
        return "" if device.gateway_token else REASON_NO_TOKEN

    def send(self, *, device: Device, outgoing: Outgoing) -> SendResult:
        try:
            payload = payload_for(outgoing)
        except ValueError as exc:
            # Nothing left: a message Fonnte cannot carry (a comma inside a poll choice).
            return SendResult(ok=False, reason=str(exc), permanent=True, certainly_not_sent=True)
        upload = None
        if outgoing.upload is not None:
            file = outgoing.upload
            upload = (file.name, file.content, file.content_type)
        return FonnteClient().send(
            base_url=self.base_url(),
            token=device.gateway_token,
            target=outgoing.target,
            payload=payload,
            upload=upload,
        )

    def device_profile(self, *, device: Device) -> OperationResult:
        return devices.profile(base_url=self.base_url(), token=device.gateway_token)

    def device_qr(self, *, device: Device) -> OperationResult:
        return devices.qr(
            base_url=self.base_url(), token=device.gateway_token, number=device.number
        )

    def device_logout(self, *, device: Device) -> OperationResult:
        return devices.disconnect(base_url=self.base_url(), token=device.gateway_token)

    def device_set_webhooks(self, *, device: Device, urls: WebhookUrls) -> OperationResult:
        return devices.update_webhooks(
            base_url=self.base_url(),
            token=device.gateway_token,
            name=device.name,
            incoming=urls.incoming,
            status=urls.status,
            connect=urls.connect,
        )

    def device_delete(self, *, device: Device, otp: str = "") -> OperationResult:
        return devices.delete(base_url=self.base_url(), token=device.gateway_token, otp=otp)

    def devices_list(self, *, account_token: str) -> OperationResult:
        return devices.get_devices(base_url=self.base_url(), account_token=account_token)
