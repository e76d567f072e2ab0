"""The gateway contract, run over every registered adapter (docs/ARCHITECTURE.md "The gateway
interface"): each kind of send reaches a local server speaking that gateway's protocol with the
right fields; each answer is classified as sent, refused, retryable or unknown; each webhook
kind parses into the normalized events; a retried webhook is stored once. Adapters that cannot
send must say so before any request, and their webhooks must refuse with a reason.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils.translation import override

from chats.models import Message
from chats.services.inbound import dedupe_key_for
from devices_app.gateways import registry
from devices_app.gateways.base import (
    NOT_SUPPORTED,
    REASON_UNCONFIRMED_TIMEOUT,
    REASON_UNREACHABLE,
    WEBHOOK_CONNECT,
    WEBHOOK_INCOMING,
    WEBHOOK_KINDS,
    WEBHOOK_STATUS,
    Capabilities,
    GatewayAdapter,
    Outgoing,
    OutgoingPoll,
    ParseError,
    SendOutcome,
    Upload,
    WebhookUrls,
)
from devices_app.gateways.events import ConnectionChange, IncomingMessage, StatusUpdate
from devices_app.models import Device
from tests.factories import DeviceFactory
from tests.gateway_protocols import (  # noqa: F401
    CONNECTION_EVENTS,
    DELIVERIES,
    PROTOCOLS,
    Sent,
    protocol_server_fixture,
)
from tests.gateway_server import free_port

pytestmark = pytest.mark.django_db

SENDERS = [kind for kind, adapter in registry.ADAPTERS.items() if adapter.capabilities.can_send]
CUSTOMER = "6281234500001"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(params=SENDERS)
def sender(request, protocol_server):
    """(adapter, device, protocol) for one sending gateway, its server running."""
    kind = request.param
    protocol = protocol_server(kind)
    device = DeviceFactory(gateway=kind, gateway_token=f"{kind}-token", **protocol.device_fields)
    return registry.gateway_named(kind), device, protocol


def _refused_before_any_request(result, protocol) -> None:
    """What a gateway cannot carry is refused for good, and nothing reaches it."""
    assert result.outcome is SendOutcome.REFUSED
    assert result.certainly_not_sent
    assert protocol.requests == []


def _send(sender, outgoing: Outgoing):
    adapter, device, protocol = sender
    result = adapter.send(device=device, outgoing=outgoing)
    return result, protocol


# --- The registry ---------------------------------------------------------------------------


def test_every_gateway_a_device_can_choose_has_an_adapter():
    assert set(registry.ADAPTERS) == set(Device.Gateway.values)
    for kind, adapter in registry.ADAPTERS.items():
        assert adapter.kind == kind
        assert isinstance(adapter, GatewayAdapter)


def test_every_sending_adapter_has_a_protocol_server_in_the_contract_suite():
    assert set(SENDERS) <= set(PROTOCOLS)


OPERATIONS = {
    "profile": lambda a, d: a.device_profile(device=d),
    "qr": lambda a, d: a.device_qr(device=d),
    "pairing_code": lambda a, d: a.device_pairing_code(device=d, phone=CUSTOMER),
    "connect": lambda a, d: a.device_connect(device=d),
    "logout": lambda a, d: a.device_logout(device=d),
    "reconnect": lambda a, d: a.device_reconnect(device=d),
    "webhook_setup": lambda a, d: a.device_set_webhooks(
        device=d,
        urls=WebhookUrls(incoming="https://x/i", status="https://x/s", connect="https://x/c"),
    ),
    "delete": lambda a, d: a.device_delete(device=d),
    "device_list": lambda a, d: a.devices_list(account_token="account"),
}


@pytest.mark.parametrize("kind", list(registry.ADAPTERS))
def test_operations_a_gateway_lacks_answer_not_supported_without_a_request(kind, settings):
    # Capabilities and operations agree: what a page may not offer, the adapter refuses
    # without calling anything (the gateway URLs point at a closed port).
    settings.FONNTE_API_URL = settings.PUBLIC_BASE_URL = f"http://127.0.0.1:{free_port()}"
    adapter = registry.gateway_named(kind)
    device = DeviceFactory(gateway=kind)
    for capability, call in OPERATIONS.items():
        if not getattr(adapter.capabilities, capability):
            assert call(adapter, device) == NOT_SUPPORTED, capability


@pytest.mark.parametrize("kind", list(registry.ADAPTERS))
def test_operations_a_gateway_offers_are_implemented(kind):
    adapter = registry.gateway_named(kind)
    methods = {
        "profile": "device_profile",
        "qr": "device_qr",
        "pairing_code": "device_pairing_code",
        "connect": "device_connect",
        "logout": "device_logout",
        "reconnect": "device_reconnect",
        "webhook_setup": "device_set_webhooks",
        "delete": "device_delete",
        "device_list": "devices_list",
    }
    for capability, method in methods.items():
        if getattr(adapter.capabilities, capability):
            assert getattr(type(adapter), method) is not getattr(GatewayAdapter, method), method


# --- Sending: each kind reaches the gateway with the right fields ---------------------------


def test_text_reaches_the_gateway_with_the_device_token(sender):
    result, protocol = _send(sender, Outgoing(target=CUSTOMER, text="Halo, ada yang bisa dibantu?"))
    assert result.outcome is SendOutcome.SENT
    (sent,) = [protocol.read(r) for r in protocol.requests]
    assert sent == Sent(
        token=sender[1].gateway_token, target=CUSTOMER, text="Halo, ada yang bisa dibantu?"
    )


def test_a_file_by_link_carries_its_caption_and_name(sender):
    outgoing = Outgoing(
        target=CUSTOMER,
        text="The price list",
        attachment_url="https://files.example/prices.pdf",
        attachment_name="prices.pdf",
    )
    result, protocol = _send(sender, outgoing)
    assert result.outcome is SendOutcome.SENT
    sent = protocol.read(protocol.requests[0])
    assert (sent.target, sent.text, sent.url, sent.filename, sent.upload) == (
        CUSTOMER,
        "The price list",
        "https://files.example/prices.pdf",
        "prices.pdf",
        None,
    )


def test_a_file_by_upload_carries_its_bytes(sender):
    upload = Upload(name="photo.png", content=PNG, content_type="image/png")
    result, protocol = _send(sender, Outgoing(target=CUSTOMER, text="Here", upload=upload))
    if not sender[0].capabilities.file_upload:
        return _refused_before_any_request(result, protocol)
    assert result.outcome is SendOutcome.SENT
    sent = protocol.read(protocol.requests[0])
    assert (sent.target, sent.text, sent.url) == (CUSTOMER, "Here", "")
    assert sent.upload == ("photo.png", PNG)
    assert sent.token == sender[1].gateway_token


def test_a_location_carries_both_coordinates(sender):
    location = (Decimal("-6.208800"), Decimal("106.845600"))
    result, protocol = _send(sender, Outgoing(target=CUSTOMER, location=location))
    if not sender[0].capabilities.locations:
        return _refused_before_any_request(result, protocol)
    assert result.outcome is SendOutcome.SENT
    assert protocol.read(protocol.requests[0]).location == location


@pytest.mark.parametrize("multiple", [False, True])
def test_a_poll_carries_question_choices_and_mode(sender, multiple):
    poll = OutgoingPoll(question="Which day?", choices=("Monday", "Tuesday"), multiple=multiple)
    result, protocol = _send(sender, Outgoing(target=CUSTOMER, poll=poll))
    if not sender[0].capabilities.polls:
        return _refused_before_any_request(result, protocol)
    assert result.outcome is SendOutcome.SENT
    assert protocol.read(protocol.requests[0]).poll == (
        "Which day?",
        ("Monday", "Tuesday"),
        multiple,
    )


def test_a_quote_names_the_inbound_message(sender):
    result, protocol = _send(sender, Outgoing(target=CUSTOMER, text="Yes", quote_id=4242))
    assert result.outcome is SendOutcome.SENT
    # A gateway without quotes sends the reply unquoted (the workspace offers no quote there).
    expected = "4242" if sender[0].capabilities.quotes else ""
    assert protocol.read(protocol.requests[0]).quote_id == expected


def test_a_poll_the_gateway_cannot_carry_is_refused_before_any_request(sender):
    # Fonnte splits choices on commas: such a poll can never be sent as meant. A gateway that
    # sends choices as a list carries them as they are.
    poll = OutgoingPoll(question="Q", choices=("a,b", "c"))
    result, protocol = _send(sender, Outgoing(target=CUSTOMER, poll=poll))
    if protocol.poll_choices_comma_separated or not sender[0].capabilities.polls:
        return _refused_before_any_request(result, protocol)
    assert result.outcome is SendOutcome.SENT
    assert protocol.read(protocol.requests[0]).poll == ("Q", ("a,b", "c"), False)


# --- Sending: the answer's classification --------------------------------------------------


def test_an_accepted_message_is_sent_with_the_gateways_ids(sender):
    result, _protocol = _send(sender, Outgoing(target=CUSTOMER, text="Hi"))
    assert result.outcome is SendOutcome.SENT
    assert result.message_ids and all(result.message_ids)


def test_a_permanent_refusal_is_refused_with_its_reason_in_words(sender):
    sender[2].respond(sender[2].refused_for_good)
    result, protocol = _send(sender, Outgoing(target=CUSTOMER, text="Hi"))
    assert result.outcome is SendOutcome.REFUSED
    with override("en"):
        explained = registry.reason_text(result.reason)
    assert explained  # the agent reads words, not a code
    assert len(protocol.requests) == 1


def test_a_refusal_for_now_is_retryable(sender):
    sender[2].respond(sender[2].refused_for_now)
    result, _protocol = _send(sender, Outgoing(target=CUSTOMER, text="Hi"))
    assert result.outcome is SendOutcome.RETRYABLE


def test_no_answer_in_time_is_an_unknown_outcome(sender, settings):
    settings.GATEWAY_READ_TIMEOUT = 0.3
    sender[2].respond(sender[2].slow(1.5))
    result, protocol = _send(sender, Outgoing(target=CUSTOMER, text="Hi"))
    assert result.outcome is SendOutcome.UNKNOWN
    assert result.reason == REASON_UNCONFIRMED_TIMEOUT
    assert len(protocol.requests) == 1


def test_a_refused_connection_is_retryable(sender, settings):
    adapter, device, protocol = sender
    protocol.point_at(settings, f"http://127.0.0.1:{free_port()}")
    result = adapter.send(device=device, outgoing=Outgoing(target=CUSTOMER, text="Hi"))
    assert result.outcome is SendOutcome.RETRYABLE
    assert result.reason == REASON_UNREACHABLE


# --- Webhooks: parsing and dedupe ------------------------------------------------------------


def _parse(sender, kind: str, body: bytes):
    adapter, device, protocol = sender
    return adapter.parse(kind=kind, body=body, content_type=protocol.content_type, device=device)


def test_an_incoming_message_parses_with_the_gateways_id_as_dedupe_key(sender):
    _adapter, device, protocol = sender
    body = protocol.incoming(
        device_number=device.number, sender=CUSTOMER, text="Halo", message_id="777001"
    )
    (event,) = _parse(sender, WEBHOOK_INCOMING, body)
    assert isinstance(event, IncomingMessage)
    assert (event.sender, event.text, event.message_id) == (CUSTOMER, "Halo", "777001")
    # The same message posted again has the same key; another message another one.
    (again,) = _parse(sender, WEBHOOK_INCOMING, body)
    other = protocol.incoming(
        device_number=device.number, sender=CUSTOMER, text="Halo", message_id="777002"
    )
    (different,) = _parse(sender, WEBHOOK_INCOMING, other)
    assert dedupe_key_for(again) == dedupe_key_for(event) != dedupe_key_for(different)


@pytest.mark.parametrize(
    ("sender", "delivery"),
    [(kind, delivery) for kind in SENDERS for delivery in DELIVERIES[kind]],
    indirect=["sender"],
)
def test_a_status_update_parses_into_a_delivery_word(sender, delivery):
    _adapter, device, protocol = sender
    body = protocol.status(device_number=device.number, message_id="80367170", delivery=delivery)
    (event,) = _parse(sender, WEBHOOK_STATUS, body)
    assert isinstance(event, StatusUpdate)
    assert (event.message_id, event.delivery) == ("80367170", delivery)
    assert bool(event.failure_reason) == (delivery == "failed")


@pytest.mark.parametrize(
    ("sender", "connected"),
    [(kind, connected) for kind in CONNECTION_EVENTS for connected in (True, False)],
    indirect=["sender"],
)
def test_a_connection_change_parses(sender, connected):
    _adapter, device, protocol = sender
    body = protocol.connection(device_number=device.number, connected=connected, reason="phone off")
    (event,) = _parse(sender, WEBHOOK_CONNECT, body)
    assert isinstance(event, ConnectionChange)
    assert event.connected is connected


@pytest.mark.parametrize("kind", WEBHOOK_KINDS)
def test_a_body_that_is_not_the_gateways_is_refused_with_a_reason(sender, kind):
    with pytest.raises(ParseError) as refused:
        _parse(sender, kind, b"[1, 2, 3]")
    assert str(refused.value)


def test_a_retried_incoming_webhook_is_stored_once(sender, client):
    _adapter, device, protocol = sender
    body = protocol.incoming(
        device_number=device.number, sender=CUSTOMER, text="Halo", message_id="915"
    )
    url = f"/hooks/{device.gateway}/{device.webhook_key}/incoming"
    for _ in range(3):
        response = client.post(url, data=body, content_type=protocol.content_type)
        assert response.status_code == 200
    assert Message.objects.filter(device=device, text="Halo").count() == 1


# --- Gateways that cannot send -----------------------------------------------------------------
# Every registered gateway sends today; the base class's refusals stay in the contract for the
# next one that cannot (yet).


class _Mute(GatewayAdapter):
    kind = "mute"
    label = "Mute"
    capabilities = Capabilities(can_send=False)


def test_a_gateway_that_cannot_send_says_why_before_any_request():
    adapter = _Mute()
    device = Device(number="6281100000001", gateway="mute")
    reason = adapter.cannot_send_reason(device=device)
    assert reason
    assert registry.reason_is_own(reason)
    result = adapter.send(device=device, outgoing=Outgoing(target=CUSTOMER, text="Hi"))
    assert result.outcome is SendOutcome.REFUSED and result.certainly_not_sent


@pytest.mark.parametrize("kind", WEBHOOK_KINDS)
def test_webhooks_of_a_gateway_sapa_cannot_read_refuse_with_a_reason(kind):
    device = Device(number="6281100000001", gateway="mute")
    with pytest.raises(ParseError) as refused:
        _Mute().parse(kind=kind, body=b"{}", content_type="application/json", device=device)
    assert str(refused.value)
