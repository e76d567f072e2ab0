"""ApiWago webhook bodies (tests/fixtures/apiwago/, shaped as the gateway's handleWebhookEvent
builds them) → normalized events, through the adapter's `parse` as the webhook view calls it."""

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

FIXTURES = Path(__file__).parents[1] / "fixtures" / "apiwago"
TOKEN = "sapa-device-1"


def fixture(name: str, **overrides) -> dict:
    body = json.loads((FIXTURES / f"{name}.json").read_text())
    body.update(overrides)
    return body


def parse(body, *, token: str = TOKEN, kind: str = "incoming", raw: bytes | None = None):
    device = Device(number="6287700000001", gateway="apiwago", gateway_token=token)
    data = raw if raw is not None else json.dumps(body).encode()
    return gateway_named("apiwago").parse(
        kind=kind, body=data, content_type="application/json", device=device
    )


def test_private_text_takes_its_id_and_time_from_the_payload_string():
    [event] = parse(fixture("message_private_text"))

    assert isinstance(event, IncomingMessage)
    assert event.sender == "6282100000002"
    assert not event.is_group and event.author == ""
    assert event.text == "Halo, stok masih ada?"
    assert event.sender_name == "Rama"
    assert event.message_id == "3EB0C7A1F2D4E5B6A7C8"
    assert event.timestamp == datetime.fromtimestamp(1785902400, tz=UTC)
    assert event.kind == "text"
    assert not event.is_self


def test_the_session_token_is_not_kept_in_the_raw_body():
    [event] = parse(fixture("message_private_text"))
    assert "token" not in event.raw
    assert event.raw["event"] == "message"


def test_group_message_is_keyed_by_the_group_with_its_author():
    [event] = parse(fixture("message_group_text"))

    assert event.sender == "120363400800000001@g.us"
    assert event.is_group
    assert event.author == "6282100000003"
    assert event.text == "Pesanan grup kantor ya"
    assert event.message_id == "3A5F0E2B9C1D7E8F4A6B"


def test_image_with_media_url_is_an_attachment_named_after_the_stored_file():
    [event] = parse(fixture("message_image_media_url"))

    assert event.kind == "image"
    assert event.text == "Ini buktinya"  # the caption
    assert event.attachment_url.endswith("/media/sapa-device-1/2026-08-05/3EB0D9E8F7A6B5C4D3E2.jpg")
    assert event.attachment_name == "3EB0D9E8F7A6B5C4D3E2.jpg"
    assert event.attachment_extension == "jpg"


def test_document_keeps_the_senders_file_name():
    [event] = parse(fixture("message_document"))

    assert event.kind == "document"
    assert event.attachment_name == "Invoice Agustus.pdf"
    assert event.attachment_extension == "pdf"
    assert event.attachment_url.startswith("https://s3.example.com/")


def test_image_without_stored_media_has_no_attachment_link():
    body = fixture("message_image_media_url")
    del body["media_url"]
    [event] = parse(body)
    assert event.kind == "image" and event.attachment_url == "" and event.attachment_name == ""


def test_location_is_read_from_the_message_inside_the_payload():
    [event] = parse(fixture("message_location"))

    assert event.kind == "location"
    assert event.location == (Decimal("-6.208763"), Decimal("106.845599"))


def test_button_reply_is_text():
    [event] = parse(fixture("message_button_reply"))
    assert event.kind == "text"
    assert event.text.startswith("quick_reply | ")


def test_message_typed_on_the_business_phone_is_marked_self_without_a_customer_name():
    [event] = parse(fixture("message_from_me"))

    assert event.is_self
    assert event.sender == "6282100000002"
    assert event.sender_name == ""
    assert event.message_id == "3EB0SELF000000000001"


def test_unresolved_privacy_id_keeps_its_digits():
    [event] = parse(fixture("message_lid_unresolved"))
    assert event.sender == "215900000000042"
    assert not event.is_group


def test_unreadable_payload_still_gives_the_message_without_an_id():
    [event] = parse(fixture("message_payload_unreadable"))
    assert event.text == "tanpa payload"
    assert event.message_id == ""
    assert event.timestamp is None


def test_delivery_receipt_has_an_empty_type():
    [update] = parse(fixture("receipt_delivered"), kind="status")

    assert isinstance(update, StatusUpdate)
    assert update.message_id == "3EB0ABCDEF0123456789"
    assert update.delivery == "delivered"
    assert "token" not in update.raw


def test_read_receipt_names_every_message_it_covers():
    updates = parse(fixture("receipt_read_two_ids"))
    assert [(u.message_id, u.delivery) for u in updates] == [
        ("3EB0ABCDEF0123456789", "read"),
        ("3EB0ABCDEF0123456790", "read"),
    ]


def test_played_voice_note_counts_as_read():
    [update] = parse(fixture("receipt_played"))
    assert update.delivery == "read" and update.state == "played"


def test_receipt_of_our_own_reading_says_nothing_about_sent_messages():
    assert parse(fixture("receipt_read_self")) == []


def test_forwarded_call_is_valid_and_says_nothing():
    assert parse(fixture("incoming_call")) == []


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"", "empty body"),
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        # NaN is kept as text (devices_app.untrusted); this body then lacks its chat.
        (b'{"event": "message", "text": NaN}', "'chat'"),
        (b'{"event": "message", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}", "nested deeper"),
        (json.dumps({"token": TOKEN}).encode(), "'event' is missing"),
        (json.dumps({"token": TOKEN, "event": "presence"}).encode(), "'presence'"),
        (json.dumps({"token": TOKEN, "event": "message", "text": "x"}).encode(), "'chat'"),
        (json.dumps({"token": TOKEN, "event": "receipt", "type": "read"}).encode(), "'ids'"),
    ],
)
def test_bodies_that_are_not_apiwago_webhooks_are_refused_with_a_reason(raw, words):
    with pytest.raises(ParseError, match=words):
        parse(None, raw=raw)


def test_a_body_for_another_session_is_refused():
    with pytest.raises(ParseError, match="session token"):
        parse(fixture("message_private_text"), token="another-device")


def test_nul_and_lone_surrogates_are_removed_so_any_database_can_store_the_body():
    raw = json.dumps(fixture("message_private_text", text="a\u0000b\ud800c")).encode()
    [event] = parse(None, raw=raw)
    assert "\x00" not in event.text
    event.text.encode("utf-8")  # would raise on a lone surrogate
    assert event.text.startswith("ab")
