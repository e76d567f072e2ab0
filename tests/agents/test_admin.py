from __future__ import annotations

import re

import pytest
from django.urls import reverse

from agents.models import Agent
from agents.tokens import token_hash
from tests.factories import AgentFactory, DeviceFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def shown_token(html: str) -> str:
    match = re.search(r'id="sapa-token"[^>]*value="([^"]+)"', html)
    assert match, "the token page shows the token"
    return match.group(1)


def test_creating_an_agent_shows_its_token_once(staff_client):
    device = DeviceFactory()
    response = staff_client.post(
        reverse("admin:agents_agent_add"),
        {"name": "Sari", "device": device.pk, "division": device.division.pk, "is_active": "on"},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = shown_token(response.content.decode())
    agent = Agent.objects.get(name="Sari")
    assert agent.token_hash == token_hash(token)
    # The change page never shows it again.
    change = staff_client.get(
        reverse("admin:agents_agent_change", args=[agent.pk])
    ).content.decode()
    assert token not in change


def test_regenerate_button_confirms_then_shows_a_new_token(staff_client):
    agent = AgentFactory()
    url = reverse("admin:agents_agent_regenerate_token", args=[agent.pk])
    old_hash = agent.token_hash
    assert "Regenerate token" in staff_client.get(url).content.decode()
    agent.refresh_from_db()
    assert agent.token_hash == old_hash, "GET only asks for confirmation"
    token = shown_token(staff_client.post(url).content.decode())
    agent.refresh_from_db()
    assert agent.token_hash == token_hash(token) != old_hash


def test_unchecking_active_in_the_admin_deactivates_the_user(staff_client):
    agent = AgentFactory()
    staff_client.post(
        reverse("admin:agents_agent_change", args=[agent.pk]),
        {"name": agent.name, "device": agent.device.pk, "division": agent.division.pk},
    )
    agent.refresh_from_db()
    assert not agent.is_active and not agent.user.is_active


def test_admin_lists_every_model(staff_client):
    page = staff_client.get(reverse("admin:index")).content.decode()
    for model in [
        "Devices",
        "Divisions",
        "Agents",
        "Quick replies",
        "Polls",
        "Contacts",
        "Conversations",
        "Messages",
        "Rotation states",
        "Assignment log",
    ]:
        assert model in page, model


def test_device_admin_never_renders_the_gateway_token(staff_client):
    device = DeviceFactory(gateway_token="secret-gateway-token-1234")
    page = staff_client.get(
        reverse("admin:devices_app_device_change", args=[device.pk])
    ).content.decode()
    assert "secret-gateway-token-1234" not in page
    assert "1234" in page  # the masked hint
    assert f"/hooks/fonnte/{device.webhook_key}/incoming" in page


def test_agents_cannot_open_the_admin(client, agent_with_token):
    client.post(
        reverse("agents:login"), {"device_number": "6281100000001", "token": agent_with_token.token}
    )
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_an_agent_added_without_a_division_gets_the_devices(staff_client):
    device = DeviceFactory()
    add = staff_client.get(reverse("admin:agents_agent_add")).content.decode()
    assert "Leave empty to use the division of the agent" in add
    response = staff_client.post(
        reverse("admin:agents_agent_add"),
        {"name": "Tono", "device": device.pk, "division": "", "is_active": "on"},
    )
    assert response.status_code == 200, "the token page"
    assert Agent.objects.get(name="Tono").division == device.division
