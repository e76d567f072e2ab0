"""Staff read conversations and messages in the admin; what only services may set stays
read-only there, and rows are never added by hand (they would reach nobody)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chats.models import Conversation, Message
from tests.factories import AgentFactory, ConversationFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def editable_inputs(html: str, names: list[str]) -> list[str]:
    """The names among `names` that the change form offers as inputs."""
    return [name for name in names if f'name="{name}"' in html]


def test_conversation_fields_only_services_set_are_read_only(staff_client):
    agent = AgentFactory()
    conversation = ConversationFactory(
        device=agent.device, agent=agent, status=Conversation.Status.OPEN, unread_count=3
    )
    url = reverse("admin:chats_conversation_change", args=[conversation.pk])
    html = staff_client.get(url).content.decode()
    service_fields = ["device", "status", "first_response_at", "unread_count", "agent"]
    assert editable_inputs(html, service_fields) == []
    # A crafted post cannot set them either.
    staff_client.post(url, {"unread_count": "0", "device": "", "labels": []})
    conversation.refresh_from_db()
    assert conversation.unread_count == 3
    assert conversation.device_id == agent.device_id


def test_message_delivery_fields_are_read_only(staff_client):
    conversation = ConversationFactory()
    message = Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.OUT,
        text="Halo",
        status=Message.Status.SENT,
    )
    url = reverse("admin:chats_message_change", args=[message.pk])
    html = staff_client.get(url).content.decode()
    delivery = [
        "device",
        "status",
        "sent_at",
        "delivered_at",
        "read_at",
        "send_attempts",
        "collided_with",
    ]
    assert editable_inputs(html, [*delivery, "direction", "conversation"]) == []
    assert 'name="text"' in html  # what is not the services' stays editable


def test_no_add_conversation_or_add_message(staff_client):
    for model in ("conversation", "message"):
        changelist = staff_client.get(reverse(f"admin:chats_{model}_changelist"))
        assert reverse(f"admin:chats_{model}_add") not in changelist.content.decode()
        assert staff_client.get(reverse(f"admin:chats_{model}_add")).status_code == 403
