from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import transaction

from .models import Device, UnparsedWebhook, new_webhook_key

logger = logging.getLogger(__name__)


@transaction.atomic
def device_webhook_key_rotate(*, device: Device) -> Device:
    """Give the device a new webhook key; the old webhook URLs answer 404 from now on."""
    device.webhook_key = new_webhook_key()
    device.save(update_fields=["webhook_key"])
    return device


# Keys whose values are credentials in the gateways' webhook bodies (ApiWago's session `token`,
# a wonotify `access_token`): masked before a body is kept.
SECRET_KEYS = frozenset({"token", "access_token", "apikey", "api_key", "password", "secret"})


def _masked(value):
    if isinstance(value, dict):
        return {
            key: "•••" if str(key).lower() in SECRET_KEYS and value[key] else _masked(value[key])
            for key in value
        }
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def _readable_body(body: bytes) -> str:
    """The body as text a database can store (PostgreSQL takes no NUL), credentials masked
    when it is JSON."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        text = body.decode("utf-8", "replace")
    else:
        text = json.dumps(_masked(data), ensure_ascii=False, indent=2)
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


@transaction.atomic
def unparsed_webhook_keep(
    *, device: Device, kind: str, body: bytes, content_type: str, reason: str
) -> UnparsedWebhook:
    """Keep a webhook body the device's gateway adapter could not parse, for staff to read.

    For gateways that ignore the webhook's answer: the caller answers 200 once this committed,
    so nothing a gateway posted is lost silently. Keeps at most UNPARSED_WEBHOOKS_KEPT bodies
    per device (the oldest go), so a gateway repeating an unknown event cannot fill the
    database. Not idempotent: a repeated body is kept again.
    """
    kept = UnparsedWebhook.objects.create(
        device=device,
        gateway=device.gateway,
        kind=kind[:16],
        content_type=content_type[:100],
        body=_readable_body(body),
        body_size=len(body),
        reason=reason[:255],
    )
    limit = settings.UNPARSED_WEBHOOKS_KEPT
    oldest_kept = (
        UnparsedWebhook.objects.filter(device=device)
        .order_by("-received_at", "-id")
        .values_list("id", flat=True)[limit : limit + 1]
    )
    if cutoff := list(oldest_kept):
        UnparsedWebhook.objects.filter(device=device, id__lte=cutoff[0]).delete()
    logger.warning("kept an unreadable %s webhook for device %s: %s", kind, device.pk, reason)
    return kept
