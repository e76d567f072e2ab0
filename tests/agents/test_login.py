from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from agents.models import Agent
from agents.services import agent_create, agent_set_active, agent_token_regenerate
from tests.factories import DeviceFactory, StaffFactory

pytestmark = pytest.mark.django_db

LOGIN_ERROR = "That device number and token do not match an active agent."


def login(client, number: str, token: str):
    return client.post(reverse("agents:login"), {"device_number": number, "token": token})


def test_token_is_stored_only_as_its_sha256(agent_with_token):
    agent = Agent.objects.get(pk=agent_with_token.agent.pk)
    token = agent_with_token.token
    assert agent.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(v) for v in Agent.objects.filter(pk=agent.pk).values().first().values()]
    assert token not in stored


def test_generated_tokens_carry_at_least_160_random_bits(device):
    created = agent_create(name="Eko", device=device, division=device.division)
    assert created.token.startswith("sapa_")
    # token_urlsafe(24): 24 random bytes = 192 bits, 32 url-safe characters.
    assert len(created.token.removeprefix("sapa_")) == 32


def test_login_page_labels_its_fields(client):
    page = client.get(reverse("agents:login")).content.decode()
    assert '<label for="id_device_number">Device number</label>' in page
    assert '<label for="id_token">Token</label>' in page


def test_device_number_and_token_open_the_inbox(client, agent_with_token):
    response = login(client, "6281100000001", agent_with_token.token)
    assert response.status_code == 302
    assert response["Location"] == reverse("chats:inbox")
    assert client.get(reverse("chats:inbox")).status_code == 200


@pytest.mark.parametrize("number", ["081100000001", "+62 811-0000-0001", "62 811 0000 0001"])
def test_other_formats_of_the_device_number_are_the_same_device(client, agent_with_token, number):
    assert login(client, number, agent_with_token.token).status_code == 302


def test_wrong_token_is_refused_with_one_message(client, agent_with_token):
    response = login(client, "6281100000001", "sapa_wrong")
    assert response.status_code == 400
    assert LOGIN_ERROR in response.content.decode()
    assert client.get(reverse("chats:inbox")).status_code == 302


def test_wrong_device_gets_the_same_message_as_a_wrong_token(client, agent_with_token):
    other = DeviceFactory(number="6281199999999")
    response = login(client, other.number, agent_with_token.token)
    assert response.status_code == 400
    assert LOGIN_ERROR in response.content.decode()


def test_garbage_device_number_is_refused_without_error(client, agent_with_token):
    response = login(client, "not a number", agent_with_token.token)
    assert response.status_code == 400
    assert LOGIN_ERROR in response.content.decode()


def test_inactive_agent_cannot_log_in(client, agent_with_token):
    agent_set_active(agent=agent_with_token.agent, active=False)
    response = login(client, "6281100000001", agent_with_token.token)
    assert response.status_code == 400
    assert LOGIN_ERROR in response.content.decode()


def test_repeated_failures_lock_the_device_number_whatever_its_format(
    client, agent_with_token, settings
):
    formats = ["6281100000001", "081100000001", "+62 811 0000 0001"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, formats[attempt % 3], f"sapa_wrong-{attempt}")
    # Even the right token is refused now, from this IP, in any format.
    response = login(client, "081100000001", agent_with_token.token)
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert client.get(reverse("chats:inbox")).status_code == 302


def test_lockout_of_one_device_leaves_other_devices_at_the_same_ip(
    client, agent_with_token, settings
):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, "6281100000001", f"sapa_wrong-{attempt}")
    other_device = DeviceFactory(number="6281100000002")
    other = agent_create(name="Budi", device=other_device, division=other_device.division)
    assert login(client, other_device.number, other.token).status_code == 302


def test_regenerating_the_token_ends_the_old_session(client, agent_with_token):
    login(client, "6281100000001", agent_with_token.token)
    assert client.get(reverse("chats:inbox")).status_code == 200
    new_token = agent_token_regenerate(agent=agent_with_token.agent)
    assert client.get(reverse("chats:inbox")).status_code == 302
    assert login(client, "6281100000001", agent_with_token.token).status_code == 400
    assert login(client, "6281100000001", new_token).status_code == 302


def test_deactivating_ends_the_session(client, agent_with_token):
    login(client, "6281100000001", agent_with_token.token)
    agent_set_active(agent=Agent.objects.get(pk=agent_with_token.agent.pk), active=False)
    assert client.get(reverse("chats:inbox")).status_code == 302


def test_logout_needs_post_and_ends_the_session(client, agent_with_token):
    login(client, "6281100000001", agent_with_token.token)
    assert client.get(reverse("agents:logout")).status_code == 405
    client.post(reverse("agents:logout"))
    assert client.get(reverse("chats:inbox")).status_code == 302


def test_anonymous_inbox_redirects_to_login(client):
    response = client.get(reverse("chats:inbox"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("agents:login"))


def test_staff_without_an_agent_are_sent_from_the_inbox_to_the_board(client):
    client.force_login(StaffFactory())
    response = client.get(reverse("chats:inbox"))
    assert response.status_code == 302
    assert response["Location"] == reverse("supervision:board")


def test_login_redirect_ignores_foreign_next_urls(client, agent_with_token):
    response = client.post(
        reverse("agents:login"),
        {
            "device_number": "6281100000001",
            "token": agent_with_token.token,
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == reverse("chats:inbox")


def test_login_form_posts_need_csrf(agent_with_token):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        reverse("agents:login"), {"device_number": "6281100000001", "token": agent_with_token.token}
    )
    assert response.status_code == 403
