"""The public rotator link takes at most ROTATOR_VISITS_PER_MINUTE turns per address and minute;
the rest answer 429 with Retry-After and take no turn (docs/SECURITY.md). Counted in the real
Redis cache."""

from __future__ import annotations

import types

import pytest
from django.urls import reverse

from rotation.models import AssignmentLog, RotatorLink
from tests.rotation.test_rotator_link import BROWSER, make_link

pytestmark = pytest.mark.django_db

VISITS = 1000


@pytest.fixture(autouse=True)
def _one_window(monkeypatch, settings):
    # All visits inside one fixed minute, whatever the wall clock does during the test.
    monkeypatch.setattr("rotation.throttle.time", types.SimpleNamespace(time=lambda: 600.0))
    settings.ROTATOR_VISITS_PER_MINUTE = 20


def _visit(client, address: str):
    return client.get(
        reverse("rotation:rotator", args=["promo"]),
        headers={"User-Agent": BROWSER},
        REMOTE_ADDR=address,
    )


def test_a_thousand_visits_from_one_address_take_twenty_turns(client):
    link = make_link(weights=(1, 1))
    answers = [_visit(client, "203.0.113.7") for _ in range(VISITS)]
    codes = [response.status_code for response in answers]
    assert codes.count(302) == 20
    assert codes.count(429) == VISITS - 20
    refused = next(response for response in answers if response.status_code == 429)
    assert refused["Retry-After"] == "60"
    assert b"too many times" in refused.content
    link.refresh_from_db()
    assert link.clicks == 20
    assert AssignmentLog.objects.filter(rotator_link=link).count() == 20
    # Another visitor is not held back by the first one's visits.
    assert _visit(client, "198.51.100.9").status_code == 302
    assert RotatorLink.objects.get(pk=link.pk).clicks == 21


def test_zero_turns_the_limit_off(client, settings):
    settings.ROTATOR_VISITS_PER_MINUTE = 0
    make_link(weights=(1,))
    assert {_visit(client, "203.0.113.7").status_code for _ in range(50)} == {302}
