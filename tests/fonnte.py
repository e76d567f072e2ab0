"""Helpers for webhook tests: named Fonnte fixtures (tests/fixtures/fonnte/) and posting them."""

from __future__ import annotations

import json
from pathlib import Path

from chats.models import Contact, Conversation, Message
from devices_app.models import Device

FIXTURES = Path(__file__).parent / "fixtures" / "fonnte"
FIXTURE_DEVICE_NUMBER = "6287700000001"


def fixture(fixture_name: str, /, **overrides) -> dict:
    body = json.loads((FIXTURES / f"{fixture_name}.json").read_text())
    body.update(overrides)
    return body


def hook_url(device: Device, kind: str, *, slash: bool = False, gateway: str = "fonnte") -> str:
    return f"/hooks/{gateway}/{device.webhook_key}/{kind}" + ("/" if slash else "")


def post(client, device: Device, kind: str, body, *, slash: bool = False, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body)
    return client.post(
        hook_url(device, kind, slash=slash), data=data, content_type="application/json"
    )


def snapshot() -> tuple:
    """Everything a webhook may change, to prove a refused request changed nothing."""
    return (
        list(Contact.objects.order_by("pk").values()),
        list(Conversation.objects.order_by("pk").values()),
        list(Message.objects.order_by("pk").values()),
        list(Device.objects.order_by("pk").values()),
    )
