"""Bodies that used to answer 500 (retried by the gateway, then lost for good).

Each is sent to the real webhook URL; the answer is a stored message (200, with what cannot be
stored cleaned and the raw body kept) or a clear 4xx that changed nothing — never a 500. Runs
on SQLite and PostgreSQL (PostgreSQL refuses NUL in text and in jsonb; both refuse integers
over 2^63 - 1 in a bigint, non-finite JSON numbers and lone surrogates). docs/RELIABILITY.md
"Webhooks that cannot be lost" quotes the counts this file prints.
"""

from __future__ import annotations

import json

import pytest

from chats.models import Contact, Message
from devices_app.models import Device
from tests.fonnte import hook_url, post, snapshot

pytestmark = pytest.mark.django_db

SENDER = "6282100000002"
DEVICE = "6287700000001"


@pytest.fixture
def device(fonnte_device, sales_agents):
    return fonnte_device


def _body(**fields) -> str:
    return json.dumps({"device": DEVICE, "sender": SENDER, "message": "Halo", **fields})


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# (name, kind, raw body, expected status, what a stored message must look like)
STORED = [
    ("nul in an ignored key", "incoming", _body(**{"x\u0000y": "a\u0000b"}), {"text": "Halo"}),
    ("nul in the text", "incoming", _body(message="Ha\u0000lo"), {"text": "Halo"}),
    ("nul in the name", "incoming", _body(name="Ra\u0000ma"), {"text": "Halo"}),
    ("inboxid 2^63", "incoming", _body(inboxid=2**63), {"gateway_inbox_id": None}),
    ("inboxid 2^64 as text", "incoming", _body(inboxid=str(2**64)), {"gateway_inbox_id": None}),
    # Found by the fuzzing: a 75-digit id overflowed the 80-character dedupe key on PostgreSQL.
    (
        "inboxid of 75 digits as text",
        "incoming",
        _body(inboxid="7" * 75),
        {"gateway_inbox_id": None},
    ),
    ("inboxid 2^63 - 1", "incoming", _body(inboxid=2**63 - 1), {"gateway_inbox_id": 2**63 - 1}),
    (
        "NaN and Infinity",
        "incoming",
        _body()[:-1] + ', "x": NaN, "timestamp": Infinity, "y": -Infinity}',
        {"gateway_timestamp": None},
    ),
    ("a number too large for a float", "incoming", _body()[:-1] + ', "x": 1e999}', {}),
    ("location NaN,1", "incoming", _body(location="NaN,1"), {"location_lat": None}),
    ("location Infinity,1", "incoming", _body(location="Infinity,1"), {"location_lat": None}),
    ("location 1e999999,1", "incoming", _body(location="1e999999,1"), {"location_lat": None}),
    ("lone surrogate in the text", "incoming", _body()[:-1] + ', "message": "a\\ud800b"}', {}),
    ("lone surrogate in a key", "incoming", _body()[:-1] + ', "\\udfff": 1}', {}),
    ("nesting 60 levels", "incoming", _body()[:-1] + f', "x": {_nested(60)}}}', {}),
    (
        "a javascript: link on the business phone's own message",
        "incoming",
        _body(quick=True, url="javascript:alert(document.cookie)", filename="x.pdf"),
        {"attachment_url": ""},
    ),
]

REFUSED = [
    ("sender longer than the column", "incoming", _body(sender="6" * 80), "'sender'"),
    ("group id longer than the column", "incoming", _body(sender="1" * 70 + "@g.us"), "'sender'"),
    (
        "member longer than the column",
        "incoming",
        _body(sender="120363000000000001@g.us", member="6" * 80, isgroup=True),
        "'member'",
    ),
    ("nesting 1,000 levels", "incoming", _body()[:-1] + f', "x": {_nested(1000)}}}', "nested"),
    ("nesting 100,000 levels", "incoming", _body()[:-1] + f', "x": {_nested(100_000)}}}', "nested"),
    ("nul in the status id", "status", json.dumps({"id": "\u0000", "status": "sent"}), "'id'"),
    ("sender of NUL only", "incoming", _body(sender="\u0000"), "'sender'"),
]


def _stored_fields(message: Message) -> None:
    # Everything stored must read back through the ORM and JSON-encode (the raw body included).
    json.dumps(message.raw, allow_nan=False)
    for value in (message.text, message.author_address, json.dumps(message.raw)):
        assert "\x00" not in value
        value.encode("utf-8")  # no lone surrogate


@pytest.mark.parametrize(("name", "kind", "raw", "expected"), STORED, ids=[s[0] for s in STORED])
def test_hostile_body_is_stored_cleaned(client, device, name, kind, raw, expected):
    response = post(client, device, kind, None, raw=raw.encode("utf-8", "surrogatepass"))
    assert response.status_code == 200, response.content
    message = Message.objects.get(pk=response.json()["id"])
    _stored_fields(message)
    for field, value in expected.items():
        assert getattr(message, field) == value
    # A retry of the same body is recognised: still one message.
    assert post(client, device, kind, None, raw=raw.encode("utf-8", "surrogatepass")).json()[
        "id"
    ] == (message.pk)
    assert Message.objects.count() == 1


@pytest.mark.parametrize(("name", "kind", "raw", "reason"), REFUSED, ids=[r[0] for r in REFUSED])
def test_hostile_body_is_refused_with_a_reason_and_changes_nothing(
    client, device, name, kind, raw, reason
):
    before = snapshot()
    response = post(client, device, kind, None, raw=raw.encode("utf-8", "surrogatepass"))
    assert response.status_code == 400, response.content
    assert response.json()["ok"] is False
    assert reason in response.json()["error"]
    assert snapshot() == before


def test_form_encoded_body_with_nul_is_stored_cleaned(client, device):
    response = client.post(
        hook_url(device, "incoming"),
        f"sender={SENDER}&message=Ha%00lo&x%00=%00",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    message = Message.objects.get()
    assert message.text == "Halo"
    _stored_fields(message)


def test_status_and_connect_bodies_with_nul_are_applied_cleaned(client, device):
    raw = _body(status="disconnect", reason="gone\u0000").encode()
    response = post(client, device, "connect", None, raw=raw)
    assert response.status_code == 200, response.content
    device.refresh_from_db()
    assert device.status == Device.Status.DISCONNECTED
    assert device.status_reason == "gone"
    response = post(client, device, "status", None, raw=b'{"id": "77\\u0000", "status": "sent"}')
    assert response.status_code == 200, response.content


def test_group_member_within_the_column_is_kept(client, device):
    response = post(
        client,
        device,
        "incoming",
        None,
        raw=_body(sender="120363000000000001@g.us", member="6281234567890", isgroup=True).encode(),
    )
    assert response.status_code == 200
    assert Contact.objects.get().address == "120363000000000001@g.us"


def test_the_core_cleans_events_from_any_parser(device):
    """A parser that does not clean its body (another gateway's) still cannot make the core
    store what the database refuses, nor write to a shortened address."""
    from chats.services.inbound import message_receive
    from devices_app.gateways.events import EventRefused, IncomingMessage

    event = IncomingMessage(
        sender=SENDER,
        text="Ha\x00lo \ud800",
        sender_name="Ra\x00ma",
        inbox_id=2**64,
        attachment_url="javascript:alert(1)",
        raw={"k\x00": float("nan"), "s": "\udfff", "n": [float("inf")]},
    )
    message = message_receive(device=device, event=event)
    message.refresh_from_db()
    assert message.text == "Halo \ufffd"
    assert message.gateway_inbox_id is None
    assert message.attachment_url == ""
    assert message.raw == {"k": "NaN", "s": "\ufffd", "n": ["Infinity"]}
    _stored_fields(message)

    before = snapshot()
    with pytest.raises(EventRefused, match="'sender' is longer than 64"):
        message_receive(device=device, event=IncomingMessage(sender="6" * 65, text="x"))
    assert snapshot() == before
