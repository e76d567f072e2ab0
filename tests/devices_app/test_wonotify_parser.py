"""wonotify webhook bodies → normalized events: the Waziper lineage's shape and the documented
event names (tests/fixtures/wonotify/), through the adapter's `parse`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from devices_app.gateways.base import ParseError
from devices_app.gateways.events import IncomingMessage, StatusUpdate
from devices_app.gateways.registry import gateway_named
from devices_app.models import Device

FIXTURES = Path(__file__).parents[1] / "fixtures" / "wonotify"
INSTANCE = "609ACF283XXXX"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def parse(body, *, instance: str = INSTANCE, raw: bytes | None = None):
    device = Device(
        number="6287700000001",
        gateway="wonotify",
        gateway_token="6881c11f741a1",
        gateway_instance=instance,
    )
    data = raw if raw is not None else json.dumps(body).encode()
    return gateway_named("wonotify").parse(
        kind="incoming", body=data, content_type="application/json", device=device
    )


# --- The Waziper shape --------------------------------------------------------------------------


def test_waziper_text_message():
    [event] = parse(fixture("waziper_upsert_text"))

    assert isinstance(event, IncomingMessage)
    assert event.sender == "6282100000002"
    assert event.text == "Halo kak, masih buka?"
    assert event.sender_name == "Rama"
    assert event.message_id == "BAE5F2A1C3D4E5F6"
    assert event.timestamp == datetime.fromtimestamp(1785902400, tz=UTC)
    assert event.kind == "text" and not event.is_group and not event.is_self


def test_waziper_group_image_with_a_long_timestamp():
    [event] = parse(fixture("waziper_upsert_group_image"))

    assert event.sender == "120363400800000001@g.us" and event.is_group
    assert event.author == "6282100000003"
    assert event.kind == "image"
    assert event.text == "Foto produknya"
    # Baileys' media links are encrypted: there is nothing Sapa could download.
    assert event.attachment_url == ""
    assert event.timestamp == datetime.fromtimestamp(1785902460, tz=UTC)


def test_waziper_wrapped_messages_are_unwrapped():
    [ephemeral] = parse(fixture("waziper_upsert_ephemeral_text"))
    assert ephemeral.text == "Pesan sementara"
    assert ephemeral.timestamp == datetime.fromtimestamp(1785902520, tz=UTC)

    [document] = parse(fixture("waziper_upsert_document"))
    assert document.kind == "document"
    assert document.attachment_name == "PO-0815.pdf"
    assert document.attachment_extension == "pdf"
    assert document.text == "PO terbaru"


def test_waziper_location():
    [event] = parse(fixture("waziper_upsert_location"))
    assert event.kind == "location"
    assert event.location == (Decimal("-7.983908"), Decimal("112.621391"))


def test_waziper_message_from_the_business_phone_is_self():
    [event] = parse(fixture("waziper_upsert_from_me"))
    assert event.is_self and event.sender_name == "" and event.sender == "6282100000002"


def test_history_sync_and_signalling_are_not_new_messages():
    assert parse(fixture("waziper_upsert_append_history")) == []
    assert parse(fixture("waziper_upsert_signalling_only")) == []


def test_waziper_delivery_update_of_a_sent_message():
    [update] = parse(fixture("waziper_update_delivered"))
    assert isinstance(update, StatusUpdate)
    assert update.message_id == "BAE5OUT000000001"
    assert update.delivery == "delivered"


def test_waziper_updates_of_the_customers_own_messages_are_skipped():
    [update] = parse(fixture("waziper_update_read_and_theirs"))
    assert (update.message_id, update.delivery) == ("BAE5OUT000000001", "read")


def test_waziper_contact_updates_are_valid_and_say_nothing():
    assert parse(fixture("waziper_contacts_update")) == []


# --- The documented event names -----------------------------------------------------------------


def test_documented_message_with_plain_fields():
    [event] = parse(fixture("documented_message_flat"))
    assert event.sender == "6282100000002"
    assert event.text == "Halo dari wonotify"
    assert event.message_id == "3EB0FLAT00000001"
    assert event.sender_name == "Rama"
    assert event.kind == "text"


def test_documented_message_with_a_media_link():
    [event] = parse(fixture("documented_message_flat_media"))
    assert event.kind == "image"
    assert event.attachment_url == "https://wonotify.com/uploads/media/3EB0FLAT00000002.jpg"
    assert event.attachment_name == "3EB0FLAT00000002.jpg"


def test_documented_message_carrying_a_baileys_message():
    [event] = parse(fixture("documented_message_baileys"))
    assert event.text == "format baileys"
    assert event.message_id == "BAE5DOCUMENTED01"


def test_documented_message_status():
    [update] = parse(fixture("documented_message_status_read"))
    assert (update.message_id, update.delivery) == ("BAE5OUT000000001", "read")


def test_documented_presence_says_nothing():
    assert parse(fixture("documented_presence")) == []


# --- Refusals (the webhook view keeps these bodies for staff) -----------------------------------


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("unknown_battery_event", "'battery.update'"),
        ("unknown_shape", "no 'event'"),
    ],
)
def test_bodies_sapa_cannot_read_are_refused_with_a_reason(name, words):
    with pytest.raises(ParseError, match=words):
        parse(fixture(name))


def test_a_message_event_without_a_sender_is_refused():
    with pytest.raises(ParseError, match="without a sender"):
        parse({"event": "message", "data": {"message": "hi"}})


def test_a_body_for_another_instance_is_refused():
    with pytest.raises(ParseError, match="instance"):
        parse(fixture("waziper_upsert_text"), instance="ANOTHER")


def test_not_json_is_refused():
    with pytest.raises(ParseError, match="not valid JSON"):
        parse(None, raw=b"instance_id=1&data=x")
