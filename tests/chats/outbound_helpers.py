"""Shared set-up for the outbound tests: an assigned conversation and a look into the broker."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import redis
from django.conf import settings

from chats.models import Conversation, Message
from tests.factories import AgentFactory, ContactFactory, ConversationFactory, DeviceFactory


def assigned_conversation(**device_fields) -> Conversation:
    """An open conversation assigned to a new agent, on a device with a gateway token."""
    device = DeviceFactory(gateway_token="device-token-123", **device_fields)
    agent = AgentFactory(device=device, division=device.division)
    contact = ContactFactory(device=device, address="6281234567890")
    return ConversationFactory(contact=contact, agent=agent, status=Conversation.Status.OPEN)


def inbound(conversation: Conversation, *, inbox_id: int | None = 0, text: str = "Halo") -> Message:
    return Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.IN,
        text=text,
        gateway_inbox_id=inbox_id,
        status=Message.Status.RECEIVED,
    )


@dataclass
class BrokerTask:
    name: str
    args: list
    kwargs: dict
    eta: str | None


def broker_tasks(queue: str = "celery") -> list[BrokerTask]:
    """The task messages waiting in the Redis broker (no worker is consuming in these tests)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        raw = client.lrange(queue, 0, -1)
    finally:
        client.close()
    tasks = []
    # kombu pushes on the left: reverse to get publishing order.
    for item in reversed(raw):
        envelope = json.loads(item)
        args, kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        headers = envelope["headers"]
        tasks.append(BrokerTask(headers["task"], args, kwargs, headers.get("eta")))
    return tasks
