"""Celery tasks of devices_app (interfaces: take ids, re-fetch, guard on state)."""

from __future__ import annotations

import logging

import httpx
from celery import shared_task
from django.conf import settings

from .models import Device, SandboxMessage

logger = logging.getLogger(__name__)

# The sandbox reports a delivered message the way Fonnte's status webhook does
# (docs/ARCHITECTURE.md, "Fonnte's protocol"): first `id` + `stateid` with the processing
# status, then `stateid`-only state updates.
SANDBOX_STEPS = {1: "sent", 2: "delivered", 3: "read"}
SANDBOX_STEP_DELAY_SECONDS = 1.5


class SandboxWebhookUnavailable(Exception):
    """Sapa's own status webhook answered 5xx: try the step again rather than end the chain."""


def sandbox_status_body(message: SandboxMessage, step: int) -> dict:
    state = SANDBOX_STEPS[step]
    if step == 1:
        return {
            "device": message.device.number,
            "id": message.gateway_id,
            "stateid": message.state_id,
            "status": "sent",
            "state": state,
        }
    return {"device": message.device.number, "stateid": message.state_id, "state": state}


@shared_task(
    name="devices_app.sandbox_status_callback",
    autoretry_for=(httpx.TransportError, SandboxWebhookUnavailable),
    retry_backoff=1,
    retry_jitter=True,
    max_retries=5,
)
def sandbox_status_callback(sandbox_message_id: int, step: int) -> None:
    """Call Sapa's own status webhook for one step, then schedule the next.

    Guarded: a step is sent only while the message is not already past it, so a repeated run
    (acks_late after a lost worker) posts nothing new; the webhook is idempotent anyway.
    """
    message = SandboxMessage.objects.select_related("device").filter(pk=sandbox_message_id).first()
    if message is None or step not in SANDBOX_STEPS:
        return
    order = ["pending", *SANDBOX_STEPS.values()]
    if order.index(message.state or "pending") >= step:
        return
    url = f"{settings.PUBLIC_BASE_URL}/hooks/sandbox/{message.device.webhook_key}/status"
    response = httpx.post(url, json=sandbox_status_body(message, step), timeout=5)
    if response.status_code >= 500:
        raise SandboxWebhookUnavailable(f"status webhook answered {response.status_code}")
    if response.status_code != 200:
        logger.warning(
            "sandbox status webhook answered %s: %s", response.status_code, response.text[:200]
        )
        return
    SandboxMessage.objects.filter(pk=message.pk).update(state=SANDBOX_STEPS[step])
    if step + 1 in SANDBOX_STEPS:
        sandbox_status_callback.apply_async(
            (message.pk, step + 1), countdown=SANDBOX_STEP_DELAY_SECONDS
        )


@shared_task(name="devices_app.device_profile_refresh", ignore_result=True)
def device_profile_refresh(device_id: int, requested_at: float) -> None:
    """After a connect webhook: read the device's profile (quota, package, expiry) so the console
    shows it without anyone asking. Guarded: a profile read after the webhook arrived
    (`requested_at`, a Unix time) is kept, so a repeated run (acks_late) asks the gateway
    nothing."""
    from .console.services import device_profile_refresh

    device = Device.objects.filter(pk=device_id, is_active=True).first()
    if device is None:
        return
    checked = device.profile_checked_at
    if checked is not None and checked.timestamp() >= requested_at:
        return
    answer = device_profile_refresh(device=device, max_age=0)
    if not answer.ok:
        logger.info("profile of device %s not read: %s", device_id, answer.message)
