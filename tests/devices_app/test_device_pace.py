"""Each device's sending pace, set on its admin page: the defaults shown, the form's checks, and
the token bucket in the suite's real Redis keeping to what the device says — read at every send,
so a change applies without a restart.

Asserted on the bucket's decisions and the moments of its slots on Redis's own clock, never on
wall-clock time (see test_pacing.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chats.models import Message
from chats.services.outbound import Outcome, message_send_attempt
from devices_app.models import Device
from devices_app.pacing import Pacing, device_pacing, device_send_slot
from tests.factories import StaffFactory
from tests.gateway_server import FonnteGateway, gateway_fixture  # noqa: F401
from tests.workers import assigned_conversation

pytestmark = pytest.mark.django_db


def test_a_device_without_its_own_pace_uses_the_defaults(device, settings):
    settings.SEND_RATE_PER_DEVICE = 1.0
    settings.SEND_BURST_PER_DEVICE = 5
    settings.SEND_GAP_MIN_SECONDS = 0.0
    settings.SEND_GAP_MAX_SECONDS = 0.0

    assert device_pacing(device) == Pacing(rate=1.0, burst=5, gap_min=0.0, gap_max=0.0)

    device.send_rate_per_minute = 30
    device.send_burst = 2
    device.send_gap_min_seconds = 3
    device.send_gap_max_seconds = 7
    assert device_pacing(device) == Pacing(rate=0.5, burst=2, gap_min=3, gap_max=7)


def test_the_bucket_keeps_the_devices_rate_and_burst(device):
    device.send_rate_per_minute = 30  # one every 2 s
    device.send_burst = 2
    decisions = [
        device_send_slot(device_id=device.pk, pacing=device_pacing(device), max_wait=60)
        for _ in range(4)
    ]

    assert [d.wait for d in decisions[:2]] == [0.0, 0.0]
    assert all(d.booked and d.wait > 0 for d in decisions[2:])
    assert decisions[2].at - decisions[0].at == pytest.approx(2.0, abs=1e-3)
    assert decisions[3].at - decisions[2].at == pytest.approx(2.0, abs=1e-3)


def test_a_fixed_gap_spaces_every_send_even_inside_the_burst(device):
    device.send_rate_per_minute = 600
    device.send_burst = 10
    device.send_gap_min_seconds = device.send_gap_max_seconds = 5
    decisions = [
        device_send_slot(device_id=device.pk, pacing=device_pacing(device), max_wait=60)
        for _ in range(3)
    ]

    assert decisions[0].wait == 0.0
    gaps = [b.at - a.at for a, b in zip(decisions, decisions[1:], strict=False)]
    assert gaps == pytest.approx([5.0, 5.0], abs=1e-3)


def test_a_random_gap_stays_inside_its_range_without_a_rate(device):
    device.send_rate_per_minute = 0  # no rate limit: only the gap paces
    device.send_gap_min_seconds = 2
    device.send_gap_max_seconds = 4
    decisions = [
        device_send_slot(device_id=device.pk, pacing=device_pacing(device), max_wait=60)
        for _ in range(8)
    ]

    gaps = [b.at - a.at for a, b in zip(decisions, decisions[1:], strict=False)]
    assert all(2.0 - 1e-3 <= gap <= 4.0 + 1e-3 for gap in gaps), gaps


def _queued(conversation, text: str) -> Message:
    return Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.OUT,
        sender_agent=conversation.agent,
        text=text,
        status=Message.Status.QUEUED,
    )


def test_a_pace_changed_in_the_admin_applies_to_the_next_send(gateway: FonnteGateway):
    conversation = assigned_conversation(send_rate_per_minute=1, send_burst=1)  # one a minute
    device = conversation.device

    assert message_send_attempt(message_id=_queued(conversation, "1").pk).outcome is Outcome.SENT
    held = message_send_attempt(message_id=_queued(conversation, "2").pk)
    assert held.outcome is Outcome.DEFERRED and held.wait > 30

    # Staff lift the limit: the very next send reads it, no process restarted.
    Device.objects.filter(pk=device.pk).update(send_rate_per_minute=0)
    assert message_send_attempt(message_id=_queued(conversation, "3").pk).outcome is Outcome.SENT
    assert len(gateway.requests) == 2


# --- The admin page ------------------------------------------------------------------------------


def _form_data(device: Device, **pace) -> dict:
    return {
        "name": device.name,
        "number": device.number,
        "gateway": device.gateway,
        "gateway_token": "",
        "gateway_instance": "",
        "division": device.division_id,
        "is_active": "on",
        "send_rate_per_minute": "",
        "send_burst": "",
        "send_gap_min_seconds": "",
        "send_gap_max_seconds": "",
        **{key: str(value) for key, value in pace.items()},
    }


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_the_device_page_shows_the_pace_with_its_defaults(staff_client, device, settings):
    settings.SEND_RATE_PER_DEVICE = 1.0
    settings.SEND_BURST_PER_DEVICE = 5
    response = staff_client.get(reverse("admin:devices_app_device_change", args=[device.pk]))
    html = response.content.decode()

    assert "Sending pace" in html
    assert '<label for="id_send_rate_per_minute">Messages per minute:</label>' in html
    assert 'placeholder="60"' in html and "Empty: the default, 60." in html
    assert 'placeholder="5"' in html and "Empty: the default, 5." in html
    # The rest of the page is still there.
    assert f"/hooks/fonnte/{device.webhook_key}/incoming" in html


@pytest.mark.parametrize(
    ("pace", "field", "message"),
    [
        ({"send_gap_min_seconds": 10, "send_gap_max_seconds": 2}, "send_gap_max_seconds", "10"),
        ({"send_gap_max_seconds": 90}, "send_gap_max_seconds", "60 seconds"),
        ({"send_burst": 0}, "send_burst", "greater than or equal to 1"),
        ({"send_rate_per_minute": 601}, "send_rate_per_minute", "less than or equal to 600"),
        ({"send_rate_per_minute": -1}, "send_rate_per_minute", "greater than or equal to 0"),
        ({"send_rate_per_minute": "fast"}, "send_rate_per_minute", "whole number"),
    ],
)
def test_a_pace_that_cannot_work_is_refused_and_nothing_changes(
    staff_client, device, settings, pace, field, message
):
    settings.SEND_PACING_MAX_WAIT = 60.0
    url = reverse("admin:devices_app_device_change", args=[device.pk])
    response = staff_client.post(url, _form_data(device, **pace))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field])
    device.refresh_from_db()
    assert device.send_rate_per_minute is None and device.send_gap_max_seconds is None


def test_a_valid_pace_is_saved_and_empty_fields_go_back_to_the_defaults(staff_client, device):
    url = reverse("admin:devices_app_device_change", args=[device.pk])
    pace = {"send_rate_per_minute": 20, "send_burst": 2}
    pace |= {"send_gap_min_seconds": 2, "send_gap_max_seconds": 5}
    response = staff_client.post(url, _form_data(device, **pace))
    assert response.status_code == 302
    device.refresh_from_db()
    assert device_pacing(device) == Pacing(rate=20 / 60, burst=2, gap_min=2, gap_max=5)

    staff_client.post(url, _form_data(device))
    device.refresh_from_db()
    assert device.send_rate_per_minute is None and device.send_gap_max_seconds is None
