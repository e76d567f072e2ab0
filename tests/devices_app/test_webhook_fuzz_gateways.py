"""Property, for every registered gateway and every webhook kind: a body built from the
gateway's captured fixtures with fields replaced by hostile values (NUL, lone surrogates, huge
ints, NaN, deep nesting, overlong ids, wrong types), arbitrary JSON, form bodies and raw bytes
posted to the real webhook URL are answered 200 (stored: a message, a status applied or kept
early, a connection event, or an UnparsedWebhook row) or a 4xx with a clear error that changed
no row — never a 5xx. On SQLite and PostgreSQL; docs/RELIABILITY.md "Fuzzing" quotes the counts
it prints. Strategies: tests/hostile.py."""

from __future__ import annotations

import pytest
from hypothesis import given

from devices_app.gateways.base import WEBHOOK_KINDS
from devices_app.gateways.registry import ADAPTERS
from devices_app.models import Device
from tests.hostile import FUZZ, Tally, fixture_bodies, raw_bodies, rows

pytestmark = pytest.mark.django_db

# The sandbox speaks Fonnte's protocol, so Fonnte's captured bodies are its bodies too.
FIXTURE_DIRECTORY = {"fonnte": "fonnte", "sandbox": "fonnte", "apiwago": "apiwago"}
FIXTURE_DIRECTORY["wonotify"] = "wonotify"
BODIES = {kind: raw_bodies(fixture_bodies(FIXTURE_DIRECTORY[kind])) for kind in ADAPTERS}
DEVICE_FIELDS = {
    "fonnte": {},
    "sandbox": {},
    "apiwago": {"gateway_token": "sapa-device-1"},
    "wonotify": {"gateway_token": "6881c11f741a1", "gateway_instance": "609ACF283XXXX"},
}

TALLY = Tally()


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print(TALLY.line("webhook fuzz, every gateway and kind"))


def test_every_registered_gateway_is_fuzzed():
    assert set(BODIES) == set(ADAPTERS) == set(DEVICE_FIELDS)


@pytest.mark.parametrize("hook", WEBHOOK_KINDS)
@pytest.mark.parametrize("gateway", sorted(ADAPTERS))
def test_any_webhook_body_is_stored_or_refused_never_5xx(
    client, fonnte_device, sales_agents, gateway, hook
):
    Device.objects.filter(pk=fonnte_device.pk).update(gateway=gateway, **DEVICE_FIELDS[gateway])
    url = f"/hooks/{gateway}/{fonnte_device.webhook_key}/{hook}"

    @FUZZ
    @given(body=BODIES[gateway])
    def property_holds(body):
        content_type, raw = body
        before = rows()
        response = client.post(url, data=raw, content_type=content_type)
        TALLY.answered(response.status_code)
        assert response.status_code < 500, (response.status_code, raw[:300])
        if response.status_code >= 400:
            assert response.json()["error"], response.content
            assert rows() == before, raw[:300]
            return
        assert response.status_code == 200, response.content
        if rows() != before:
            TALLY["stored"] += 1

    property_holds()
