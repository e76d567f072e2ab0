from __future__ import annotations

from django.db import transaction

from .models import Device, new_webhook_key


@transaction.atomic
def device_webhook_key_rotate(*, device: Device) -> Device:
    """Give the device a new webhook key; the old webhook URLs answer 404 from now on."""
    device.webhook_key = new_webhook_key()
    device.save(update_fields=["webhook_key"])
    return device
