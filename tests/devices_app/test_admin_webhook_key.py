from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.factories import StaffFactory
from tests.fonnte import fixture, hook_url

pytestmark = pytest.mark.django_db


def test_staff_rotate_the_webhook_key_and_the_old_url_stops_working(client, fonnte_device):
    old_url = hook_url(fonnte_device, "incoming")
    staff = StaffFactory(is_superuser=True)
    client.force_login(staff)
    response = client.post(
        reverse("admin:devices_app_device_changelist"),
        {"action": "rotate_webhook_keys", "_selected_action": [fonnte_device.pk]},
    )
    assert response.status_code == 302
    client.logout()
    fonnte_device.refresh_from_db()
    assert hook_url(fonnte_device, "incoming") != old_url
    body = json.dumps(fixture("incoming_private_captured"))
    assert client.post(old_url, body, content_type="application/json").status_code == 404
    new_url = hook_url(fonnte_device, "incoming")
    assert client.post(new_url, body, content_type="application/json").status_code == 200


def test_device_page_shows_the_webhook_urls(client, fonnte_device):
    client.force_login(StaffFactory(is_superuser=True))
    html = client.get(
        reverse("admin:devices_app_device_change", args=[fonnte_device.pk])
    ).content.decode()
    assert f"/hooks/fonnte/{fonnte_device.webhook_key}/incoming" in html
    assert f"/hooks/fonnte/{fonnte_device.webhook_key}/status" in html
    assert f"/hooks/fonnte/{fonnte_device.webhook_key}/connect" in html


def test_keep_the_current_token_is_said_only_when_editing(client, fonnte_device):
    client.force_login(StaffFactory(is_superuser=True))
    keep = "Leave empty to keep the current token."
    add = client.get(reverse("admin:devices_app_device_add")).content.decode()
    change = client.get(
        reverse("admin:devices_app_device_change", args=[fonnte_device.pk])
    ).content.decode()
    assert keep not in add
    assert keep in change
