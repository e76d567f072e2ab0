"""The wonotify adapter against a local server speaking wonotify's API (tests/wonotify_server.py):
what reaches the gateway for each send and instance operation, and how every answer — and every
error word of the Waziper script it is built on — is classified."""

from __future__ import annotations

from decimal import Decimal

import pytest

from devices_app.gateways.base import (
    REASON_BAD_GATEWAY_URL,
    REASON_NO_TOKEN,
    REASON_NOT_SUPPORTED,
    REASON_UNCONFIRMED_GARBLED,
    REASON_UNREACHABLE,
    Outgoing,
    OutgoingPoll,
    SendOutcome,
    Upload,
    WebhookUrls,
)
from devices_app.gateways.registry import gateway_named, reason_text
from devices_app.gateways.wonotify import api
from devices_app.models import Device
from tests.apiwago_server import PNG
from tests.gateway_server import free_port
from tests.wonotify_server import (  # noqa: F401
    ACCESS_TOKEN,
    AUTH_FAILED,
    INSTANCE_INVALID,
    LICENSE,
    QUOTA,
    SESSION_MISSING,
    garbled,
    http_error,
    refuse,
    wonotify_fixture,
)

INSTANCE = "609ACF283XXXX"
CUSTOMER = "6282100000002"
GROUP = "120363023285171234@g.us"

adapter = gateway_named("wonotify")


def device(*, token: str = ACCESS_TOKEN, instance: str = INSTANCE) -> Device:
    return Device(
        number="6287700000001",
        name="Toko",
        gateway="wonotify",
        gateway_token=token,
        gateway_instance=instance,
    )


def send(outgoing: Outgoing | None = None, **device_fields):
    return adapter.send(
        device=device(**device_fields), outgoing=outgoing or Outgoing(CUSTOMER, text="Halo")
    )


@pytest.fixture
def connected(wonotify):
    wonotify.add_instance(INSTANCE, logged_in=True)
    return wonotify


# --- Sends --------------------------------------------------------------------------------------


def test_text_posts_the_documented_json_body_and_records_the_whatsapp_id(connected):
    result = send(Outgoing(CUSTOMER, text="Halo 👋"))

    assert result.outcome is SendOutcome.SENT
    assert result.message_ids and result.message_ids[0].startswith("BAE5")
    [request] = connected.made("send")
    assert request.path == "/api/send"
    assert request.query == {}
    assert request.json == {
        "type": "text",
        "message": "Halo 👋",
        "number": CUSTOMER,
        "instance_id": INSTANCE,
        "access_token": ACCESS_TOKEN,
    }


def test_media_by_link_with_caption_and_filename(connected):
    result = send(
        Outgoing(
            CUSTOMER,
            text="Katalog",
            attachment_url="https://files.example.com/katalog.pdf",
            attachment_name="katalog.pdf",
        )
    )
    assert result.ok
    body = connected.made("send")[0].json
    assert body["type"] == "media"
    assert body["message"] == "Katalog"
    assert body["media_url"] == "https://files.example.com/katalog.pdf"
    assert body["filename"] == "katalog.pdf"


def test_a_group_goes_through_send_group(connected):
    result = send(Outgoing(GROUP, text="Halo grup"))
    assert result.ok
    [request] = connected.made("send_group")
    assert request.json["group_id"] == GROUP
    assert "number" not in request.json
    assert connected.made("send") == []


@pytest.mark.parametrize(
    "outgoing",
    [
        Outgoing(CUSTOMER, poll=OutgoingPoll("Q?", ["a", "b"])),
        Outgoing(CUSTOMER, location=(Decimal("-6.2"), Decimal("106.8"))),
        Outgoing(CUSTOMER, upload=Upload("a.png", b"png")),
    ],
)
def test_what_wonotify_cannot_carry_is_refused_before_anything_leaves(connected, outgoing):
    result = send(outgoing)
    assert result.outcome is SendOutcome.REFUSED and result.reason == REASON_NOT_SUPPORTED
    assert connected.requests == []


def test_capabilities_are_honest():
    caps = adapter.capabilities
    assert caps.can_send and caps.files
    assert not (caps.file_upload or caps.polls or caps.locations or caps.quotes)
    assert caps.qr and caps.connect and caps.logout and caps.reconnect and caps.webhook_setup
    assert not caps.pairing_code and not caps.profile


@pytest.mark.parametrize(
    ("words", "outcome", "reason"),
    [
        (AUTH_FAILED, SendOutcome.REFUSED, api.REASON_AUTH_FAILED),
        (INSTANCE_INVALID, SendOutcome.REFUSED, api.REASON_INSTANCE_INVALID),
        (LICENSE, SendOutcome.REFUSED, api.REASON_LICENSE),
        (QUOTA, SendOutcome.REFUSED, api.REASON_QUOTA),
        (SESSION_MISSING, SendOutcome.RETRYABLE, api.REASON_SESSION_MISSING),
        # Waziper's catch-all after the WhatsApp library failed mid-send.
        ("Error", SendOutcome.UNKNOWN, api.REASON_SEND_ERROR),
        ("Something new", SendOutcome.RETRYABLE, "Something new"),
    ],
)
def test_every_error_word_is_classified(connected, words, outcome, reason):
    connected.respond(refuse(words))
    result = send()
    assert result.outcome is outcome
    assert result.reason == reason


def test_a_wrong_access_token_against_the_real_route_logic(connected):
    result = send(token="not-my-token")
    assert result.outcome is SendOutcome.REFUSED
    assert result.reason == api.REASON_AUTH_FAILED


def test_an_unknown_instance_against_the_real_route_logic(connected):
    result = send(instance="DEADBEEF")
    assert result.outcome is SendOutcome.REFUSED
    assert result.reason == api.REASON_INSTANCE_INVALID


def test_a_logged_out_instance_is_retryable(wonotify):
    wonotify.add_instance(INSTANCE, logged_in=False)
    assert send().outcome is SendOutcome.RETRYABLE


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (502, SendOutcome.UNKNOWN),
        (504, SendOutcome.UNKNOWN),
        (500, SendOutcome.RETRYABLE),
        (503, SendOutcome.RETRYABLE),
        (429, SendOutcome.RETRYABLE),
        (403, SendOutcome.REFUSED),
        (302, SendOutcome.REFUSED),
    ],
)
def test_http_errors(connected, status, outcome):
    connected.respond(http_error(status))
    assert send().outcome is outcome


def test_an_answer_that_is_neither_success_nor_error_is_unknown(connected):
    connected.respond(garbled)
    result = send()
    assert result.outcome is SendOutcome.UNKNOWN
    assert result.reason == REASON_UNCONFIRMED_GARBLED


def test_unreachable_and_unusable_addresses(settings):
    settings.WONOTIFY_API_URL = f"http://127.0.0.1:{free_port()}/api"
    assert send().reason == REASON_UNREACHABLE
    assert send().outcome is SendOutcome.RETRYABLE
    settings.WONOTIFY_API_URL = "wonotify.com/api"
    assert send().outcome is SendOutcome.REFUSED
    assert send().reason == REASON_BAD_GATEWAY_URL


def test_missing_credentials_stop_a_send_before_it_is_attempted():
    assert adapter.cannot_send_reason(device=device(token="")) == REASON_NO_TOKEN
    assert adapter.cannot_send_reason(device=device(instance="")) == api.REASON_INSTANCE_MISSING
    assert adapter.cannot_send_reason(device=device()) == ""


def test_the_alias_base_path_works_the_same(connected, settings):
    settings.WONOTIFY_API_URL = connected.url.replace("/api", "/whatsapp_api")
    assert send().ok
    assert connected.requests[0].path == "/whatsapp_api/send"


# --- Instance operations ------------------------------------------------------------------------


def test_connect_creates_an_instance_for_a_device_without_one(wonotify):
    result = adapter.device_connect(device=device(instance=""))

    assert result.ok
    new_id = result.data["instance_id"]
    assert new_id in wonotify.instances
    [request] = wonotify.made("create_instance")
    assert request.query == {"access_token": ACCESS_TOKEN}


def test_connect_keeps_an_existing_instance(connected):
    result = adapter.device_connect(device=device())
    assert result.ok and result.data == {"instance_id": INSTANCE}
    assert connected.requests == []


def test_qr_of_an_instance_waiting_for_a_scan(wonotify):
    wonotify.add_instance(INSTANCE, logged_in=False)
    result = adapter.device_qr(device=device())

    assert result.ok and result.data == {"qr": f"data:image/png;base64,{PNG}", "connected": False}
    assert wonotify.made("get_qrcode")[0].query == {
        "access_token": ACCESS_TOKEN,
        "instance_id": INSTANCE,
    }


def test_qr_of_a_logged_in_instance_reports_the_connection(connected):
    result = adapter.device_qr(device=device())
    assert result.ok and result.data == {"qr": "", "connected": True}


def test_reboot_reconnect_and_logout(connected):
    assert adapter.device_reconnect(device=device()).ok
    assert connected.instances[INSTANCE].reconnects == 1
    assert adapter.device_logout(device=device()).ok
    again = adapter.device_logout(device=device())
    assert not again.ok and again.reason == api.REASON_ALREADY_LOGGED_OUT
    assert adapter.device_reboot(device=device()).ok
    assert connected.instances[INSTANCE].reboots == 1


def test_reset_answers_the_new_instance_id(connected):
    result = adapter.device_reset(device=device())
    assert result.ok
    assert result.data["instance_id"] != INSTANCE
    assert result.data["instance_id"] in connected.instances
    assert INSTANCE not in connected.instances
    # The old id is gone: every later call with it is refused in words.
    again = adapter.device_reconnect(device=device())
    assert not again.ok and again.reason == api.REASON_INSTANCE_INVALID


def test_delete_resets_the_instance(connected):
    assert adapter.device_delete(device=device()).ok
    assert connected.made("reset_instance")


def test_set_webhook_gives_the_incoming_url_url_encoded_and_enabled(connected):
    urls = WebhookUrls(
        incoming="https://sapa.example.com/hooks/wonotify/k/incoming?x=1&y=2",
        status="https://sapa.example.com/hooks/wonotify/k/status",
        connect="https://sapa.example.com/hooks/wonotify/k/connect",
    )
    result = adapter.device_set_webhooks(device=device(), urls=urls)

    assert result.ok
    assert connected.instances[INSTANCE].webhook == urls.incoming
    assert connected.instances[INSTANCE].webhook_enabled
    assert connected.made("set_webhook")[0].query["enable"] == "true"


def test_operations_with_a_wrong_token_are_refused_in_words(connected):
    for operation in (
        adapter.device_qr,
        adapter.device_logout,
        adapter.device_reconnect,
        adapter.device_reboot,
    ):
        result = operation(device=device(token="wrong"))
        assert not result.ok and result.reason == api.REASON_AUTH_FAILED


def test_operations_without_credentials_do_not_call_the_gateway(wonotify):
    assert adapter.device_qr(device=device(token="")).reason == REASON_NO_TOKEN
    assert adapter.device_qr(device=device(instance="")).reason == api.REASON_INSTANCE_MISSING
    assert wonotify.requests == []


def test_every_reason_of_the_adapter_is_explained():
    for reason in api.REASONS:
        assert reason_text(reason) == reason


def test_reasons_read_in_indonesian_too():
    from django.utils.translation import override

    with override("id"):
        assert reason_text(api.REASON_QUOTA) == "Batas pesan bulanan akun gateway sudah habis."


def test_adding_wonotify_does_not_shrink_what_agents_may_attach_elsewhere():
    # An agent's upload reaches every gateway as a signed link, so wonotify takes files up to
    # its own size; the limits checked where no device is known stay Fonnte's.
    from devices_app.gateways.fonnte import FILE_EXTENSIONS, UPLOAD_MAX_BYTES
    from devices_app.gateways.registry import common_limits

    limits = common_limits()
    assert limits.max_upload_bytes == UPLOAD_MAX_BYTES
    assert limits.file_extensions == FILE_EXTENSIONS
