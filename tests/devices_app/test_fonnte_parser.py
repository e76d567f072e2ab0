from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from devices_app.gateways.fonnte.webhooks import (
    ParseError,
    load_body,
    parse_connection,
    parse_incoming,
    parse_status,
)
from tests.fonnte import fixture

pytestmark = pytest.mark.django_db  # phone normalization reads settings only, but keep it simple


def test_captured_private_body_parses_to_a_text_message():
    event = parse_incoming(fixture("incoming_private_captured"))
    assert event.sender == "6282100000002"
    assert event.text == "Halo"
    assert event.sender_name == "Rama"
    assert not event.is_group and event.author == ""
    assert event.inbox_id is None  # 0 means the device's inbox is off
    assert event.raw["text"] == "non-button message"


def test_captured_group_body_keeps_group_and_author_apart():
    event = parse_incoming(fixture("incoming_group_captured"))
    assert event.sender == "120363400812345678@g.us"
    assert event.is_group
    assert event.author == "6282100000003"
    assert event.sender_name == "Sari"


def test_legacy_pesan_and_pengirim_are_read():
    event = parse_incoming(fixture("incoming_legacy_pesan_pengirim"))
    assert event.sender == "6282100000004"
    assert event.text == "Apakah stok masih ada?"


def test_inboxid_and_timestamp():
    event = parse_incoming(fixture("incoming_with_inboxid_and_timestamp"))
    assert event.inbox_id == 73125
    assert event.timestamp == datetime.fromtimestamp(1768200000, tz=UTC)
    assert event.raw["secret"] == "kept-in-raw"


def test_location_attachment_poll_quick_forwarded():
    location = parse_incoming(fixture("incoming_location")).location
    assert location == (Decimal("-7.983908"), Decimal("112.621391"))
    attachment = parse_incoming(fixture("incoming_attachment"))
    assert attachment.attachment_url.endswith("transfer.jpg")
    assert (attachment.attachment_name, attachment.attachment_extension) == ("transfer.jpg", "jpg")
    assert attachment.is_forwarded
    poll = parse_incoming(fixture("incoming_poll"))
    assert poll.poll_name == "Jam berapa bisa dihubungi?"
    assert poll.poll_choices == ("Pagi", "Siang", "Malam")
    vote = parse_incoming(fixture("incoming_poll_vote"))
    assert vote.poll_choices == ("Excellent",)  # a comma-separated string, as Fonnte's docs say
    assert parse_incoming(fixture("incoming_quick_self")).is_self


def test_keys_are_case_insensitive():
    event = parse_incoming(fixture("incoming_mixed_case_keys"))
    assert (event.sender, event.text, event.inbox_id) == ("6282100000002", "Halo lagi", 73131)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty body"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
    ],
)
def test_undecodable_bodies_are_refused_with_a_reason(raw, reason):
    with pytest.raises(ParseError, match=reason):
        load_body(raw, "application/json")


def test_body_without_sender_is_not_an_incoming_message():
    with pytest.raises(ParseError, match="'sender'"):
        parse_incoming({"device": "6287700000001", "message": "hi"})


def test_status_patterns():
    both = parse_status(fixture("status_id_and_stateid"))
    assert (both.message_id, both.state_id, both.status) == ("80367170", "st-5501", "sent")
    assert parse_status(fixture("status_id_only")).state_id == ""
    assert parse_status(fixture("status_stateid_only_read")).state == "read"
    with pytest.raises(ParseError, match="neither 'id' nor 'stateid'"):
        parse_status({"device": "6287700000001", "status": "sent"})


def test_connection_events_and_the_token_is_not_kept():
    down = parse_connection(fixture("connect_disconnect"))
    assert not down.connected and down.reason == "logged out from phone"
    assert "token" not in down.raw
    assert parse_connection(fixture("connect_connect")).connected
    with pytest.raises(ParseError, match="expected 'connect' or 'disconnect'"):
        parse_connection({"status": "sleeping"})
