"""The ApiWago adapter against a local server speaking ApiWago's API (tests/apiwago_server.py):
what reaches the gateway for each send and device operation, and how every answer — and every
documented error — is classified."""

from __future__ import annotations

import base64
import socket
import threading
from decimal import Decimal

import pytest

from devices_app.gateways.apiwago import api
from devices_app.gateways.base import (
    REASON_BAD_GATEWAY_URL,
    REASON_NO_TOKEN,
    REASON_NOT_SUPPORTED,
    REASON_UNCONFIRMED_DROPPED,
    REASON_UNCONFIRMED_GARBLED,
    REASON_UNCONFIRMED_TIMEOUT,
    REASON_UNREACHABLE,
    Outgoing,
    OutgoingPoll,
    SendOutcome,
    Upload,
    WebhookUrls,
)
from devices_app.gateways.json_api import REASON_TIMEOUT
from devices_app.gateways.registry import gateway_named, reason_text
from devices_app.models import Device
from tests.apiwago_server import (  # noqa: F401
    PNG,
    accept,
    apiwago_fixture,
    fail,
    garbled,
    http_error,
    not_registered,
)
from tests.gateway_server import free_port

TOKEN = "sapa-device-1"
CUSTOMER = "6282100000002"

adapter = gateway_named("apiwago")


def device(token: str = TOKEN) -> Device:
    return Device(number="6287700000001", name="Toko", gateway="apiwago", gateway_token=token)


def send(outgoing: Outgoing | None = None, *, token: str = TOKEN):
    return adapter.send(device=device(token), outgoing=outgoing or Outgoing(CUSTOMER, text="Halo"))


@pytest.fixture
def logged_in(apiwago):
    apiwago.scan(TOKEN)
    return apiwago


# --- Sends --------------------------------------------------------------------------------------


def test_text_goes_to_api_send_with_the_api_key_and_records_the_whatsapp_id(logged_in):
    result = send(Outgoing(CUSTOMER, text="Halo 👋"))

    assert result.outcome is SendOutcome.SENT
    assert len(result.message_ids) == 1 and result.message_ids[0].startswith("3EB0")
    [request] = logged_in.sent()
    assert request.headers["apikey"] == logged_in.api_key
    assert request.json == {"token": TOKEN, "phone": CUSTOMER, "message": "Halo 👋"}


def test_file_by_link_passes_url_name_and_caption(logged_in):
    result = send(
        Outgoing(
            CUSTOMER,
            text="Katalog",
            attachment_url="https://files.example.com/katalog.pdf",
            attachment_name="katalog.pdf",
        )
    )

    assert result.ok
    assert logged_in.sent()[0].json == {
        "token": TOKEN,
        "phone": CUSTOMER,
        "message": "Katalog",
        "file_url": "https://files.example.com/katalog.pdf",
        "file_name": "katalog.pdf",
    }


def test_uploaded_file_travels_as_a_data_uri_the_gateway_decodes(logged_in):
    content = base64.b64decode(PNG)
    result = send(Outgoing(CUSTOMER, upload=Upload("bukti.png", content, "image/png")))

    assert result.ok
    body = logged_in.sent()[0].json
    prefix = "data:image/png;base64,"
    assert body["file_url"].startswith(prefix)
    assert base64.b64decode(body["file_url"][len(prefix) :]) == content
    assert body["file_name"] == "bukti.png"


def test_poll_goes_to_send_poll_with_whatsapps_selectable_count(logged_in):
    single = send(Outgoing(CUSTOMER, poll=OutgoingPoll("Jam kirim?", ["Pagi", "Sore"])))
    multiple = send(
        Outgoing(CUSTOMER, poll=OutgoingPoll("Warna?", ["Merah", "Biru", "Hijau"], True))
    )

    assert single.ok and multiple.ok
    first, second = logged_in.sent("/api/send-poll")
    assert first.json == {
        "token": TOKEN,
        "phone": CUSTOMER,
        "options": {"name": "Jam kirim?", "options": ["Pagi", "Sore"], "selectableCount": 1},
    }
    assert second.json["options"]["selectableCount"] == 0
    assert logged_in.sent() == []


def test_a_poll_choice_may_contain_a_comma_on_apiwago(logged_in):
    result = send(Outgoing(CUSTOMER, poll=OutgoingPoll("Kota?", ["Jakarta, Pusat", "Bandung"])))
    assert result.ok
    assert logged_in.sent("/api/send-poll")[0].json["options"]["options"][0] == "Jakarta, Pusat"


def test_a_location_is_refused_before_anything_leaves(logged_in):
    result = send(Outgoing(CUSTOMER, location=(Decimal("-6.2"), Decimal("106.8"))))

    assert result.outcome is SendOutcome.REFUSED
    assert result.reason == REASON_NOT_SUPPORTED
    assert logged_in.requests == []


def test_a_quote_is_sent_unquoted(logged_in):
    result = send(Outgoing(CUSTOMER, text="Baik", quote_id=123))
    assert result.ok
    assert logged_in.sent()[0].json == {"token": TOKEN, "phone": CUSTOMER, "message": "Baik"}


def test_capabilities_offer_only_what_apiwago_has():
    caps = adapter.capabilities
    assert caps.can_send and caps.files and caps.file_upload and caps.polls
    assert not caps.locations and not caps.quotes
    assert caps.qr and caps.pairing_code and caps.connect and caps.webhook_setup
    assert "webp" not in caps.file_extensions  # the gateway would send it as a sticker


def test_belum_terdaftar_is_a_permanent_not_on_whatsapp_failure(logged_in):
    logged_in.respond(not_registered)
    result = send()

    assert result.outcome is SendOutcome.REFUSED
    assert result.reason == api.REASON_NOT_ON_WHATSAPP
    assert result.http_status == 200
    assert reason_text(result.reason) == "The number is not on WhatsApp."


@pytest.mark.parametrize(
    ("error", "outcome", "reason"),
    [
        ("client not logged in", SendOutcome.RETRYABLE, api.REASON_NOT_LOGGED_IN),
        (
            "failed to get device: sql: database is locked",
            SendOutcome.RETRYABLE,
            "failed to get device: sql: database is locked",
        ),
        (
            'failed to download media: Get "https://x": dial tcp: i/o timeout',
            SendOutcome.RETRYABLE,
            api.REASON_MEDIA_UNREACHABLE,
        ),
        ("failed to read media body: unexpected EOF", SendOutcome.RETRYABLE, None),
        ("failed to upload image: 500 Internal Server Error", SendOutcome.RETRYABLE, None),
        ("phone number is empty or invalid", SendOutcome.REFUSED, api.REASON_BAD_NUMBER),
        ("phone number too short (minimum 5 digits)", SendOutcome.REFUSED, api.REASON_BAD_NUMBER),
        ("invalid recipient JID: unexpected number of dots", SendOutcome.REFUSED, None),
        ("failed to decode base64 data URI: illegal base64 data", SendOutcome.REFUSED, None),
        ("invalid data URI format", SendOutcome.REFUSED, api.REASON_BAD_ATTACHMENT),
        # WhatsApp itself refused or timed out the send: it may have gone out.
        ("context deadline exceeded", SendOutcome.UNKNOWN, "context deadline exceeded"),
        ("server returned error 400", SendOutcome.UNKNOWN, "server returned error 400"),
    ],
)
def test_every_error_of_the_send_path_is_classified(logged_in, error, outcome, reason):
    logged_in.respond(fail(error))
    result = send()

    assert result.outcome is outcome
    assert result.http_status == 500
    if reason is not None:
        assert result.reason == reason
    else:
        assert result.reason


def test_poll_errors_in_the_error_field_are_classified_the_same(logged_in):
    logged_in.respond(fail("client not logged in"))
    result = send(Outgoing(CUSTOMER, poll=OutgoingPoll("Q?", ["a", "b"])))
    assert result.outcome is SendOutcome.RETRYABLE
    assert result.reason == api.REASON_NOT_LOGGED_IN


def test_a_session_that_is_not_logged_in_is_retryable(apiwago):
    result = send()  # the real route logic: no scan happened
    assert result.outcome is SendOutcome.RETRYABLE
    assert result.reason == api.REASON_NOT_LOGGED_IN


def test_a_wrong_api_key_is_refused_for_good(logged_in, settings):
    settings.APIWAGO_API_KEY = "wrong"
    result = send()

    assert result.outcome is SendOutcome.REFUSED
    assert result.reason == api.REASON_UNAUTHORIZED
    assert result.http_status == 401


def test_a_missing_phone_is_the_gateways_400(logged_in):
    result = send(Outgoing("", text="Halo"))
    assert result.outcome is SendOutcome.REFUSED
    assert result.reason == "phone is required"


def test_a_wrong_path_is_a_misconfigured_address(logged_in, settings):
    settings.APIWAGO_API_URL = logged_in.url + "/v2"
    result = send()
    assert result.outcome is SendOutcome.REFUSED
    assert result.reason == REASON_BAD_GATEWAY_URL
    assert result.http_status == 404


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (502, SendOutcome.UNKNOWN),
        (504, SendOutcome.UNKNOWN),
        (503, SendOutcome.RETRYABLE),
        (429, SendOutcome.RETRYABLE),
        (500, SendOutcome.UNKNOWN),  # a bare 500 (a recovered panic) may follow a send
        (301, SendOutcome.REFUSED),
    ],
)
def test_http_errors_without_the_gateways_body(logged_in, status, outcome):
    logged_in.respond(http_error(status))
    assert send().outcome is outcome


def test_an_unreadable_200_is_unknown(logged_in):
    logged_in.respond(garbled)
    result = send()
    assert result.outcome is SendOutcome.UNKNOWN
    assert result.reason == REASON_UNCONFIRMED_GARBLED


def test_no_server_listening_is_retryable(settings):
    settings.APIWAGO_API_URL = f"http://127.0.0.1:{free_port()}"
    result = send()
    assert result.outcome is SendOutcome.RETRYABLE
    assert result.reason == REASON_UNREACHABLE


def test_an_unusable_address_is_refused(settings):
    settings.APIWAGO_API_URL = "ftp://apiwago.local"
    result = send()
    assert result.outcome is SendOutcome.REFUSED
    assert result.reason == REASON_BAD_GATEWAY_URL


def _silent_server(*, close_after_request: bool):
    """A socket that reads the request and then says nothing (or hangs up)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    release = threading.Event()

    def serve():
        conn, _ = listener.accept()
        conn.recv(65536)
        if close_after_request:
            conn.close()
        else:
            release.wait(10)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener, release


def test_a_read_timeout_is_unknown(settings):
    listener, release = _silent_server(close_after_request=False)
    settings.APIWAGO_API_URL = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings.GATEWAY_READ_TIMEOUT = 0.5
    try:
        result = send()
    finally:
        release.set()
        listener.close()
    assert result.outcome is SendOutcome.UNKNOWN
    assert result.reason == REASON_UNCONFIRMED_TIMEOUT


def test_a_connection_dropped_after_the_request_is_unknown(settings):
    listener, _ = _silent_server(close_after_request=True)
    settings.APIWAGO_API_URL = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        result = send()
    finally:
        listener.close()
    assert result.outcome is SendOutcome.UNKNOWN
    assert result.reason == REASON_UNCONFIRMED_DROPPED


def test_a_device_without_a_token_or_a_server_cannot_send(settings):
    settings.APIWAGO_API_URL = "http://apiwago.local:8080"
    assert adapter.cannot_send_reason(device=device(token="")) == REASON_NO_TOKEN
    settings.APIWAGO_API_URL = ""
    assert adapter.cannot_send_reason(device=device()) == api.REASON_NOT_CONFIGURED
    assert adapter.device_profile(device=device()).reason == api.REASON_NOT_CONFIGURED


# --- Device operations --------------------------------------------------------------------------


def test_connect_starts_the_session_rejecting_calls(apiwago, settings):
    settings.APIWAGO_REJECT_MESSAGE = "Maaf, kami hanya melayani chat."
    result = adapter.device_connect(device=device())

    assert result.ok
    [request] = apiwago.requests
    assert request.path == "/api/start"
    assert request.headers["apikey"] == apiwago.api_key
    assert request.json == {
        "token": TOKEN,
        "reject_call": "Y",
        "reject_message": "Maaf, kami hanya melayani chat.",
    }
    assert apiwago.session(TOKEN).reject_call == "Y"


def test_calls_are_let_through_when_rejection_is_off(apiwago, settings):
    settings.APIWAGO_REJECT_CALLS = False
    assert adapter.device_connect(device=device()).ok
    assert apiwago.requests[0].json == {"token": TOKEN, "reject_call": "N"}


def test_start_session_passes_exempt_numbers_and_call_behaviour(apiwago, settings):
    client = api.ApiWagoClient(base_url=apiwago.url, api_key=apiwago.api_key)
    result = client.start_session(
        token=TOKEN,
        reject_call=True,
        reject_exclude_phones=["6281100000009"],
        call_behavior="reject",
    )
    assert result.ok
    assert apiwago.requests[0].json == {
        "token": TOKEN,
        "reject_call": "Y",
        "reject_exclude_phone": ["6281100000009"],
        "call_behavior": "reject",
    }


def test_qr_starts_a_session_that_was_never_started_and_returns_the_image(apiwago):
    result = adapter.device_qr(device=device())

    assert result.ok
    assert result.data["qr"] == f"data:image/png;base64,{PNG}"
    assert result.data["connected"] is False
    assert [r.path for r in apiwago.requests] == ["/api/qrcode", "/api/start", "/api/qrcode"]
    assert apiwago.requests[0].json == {"token": TOKEN}


def test_qr_not_ready_yet_says_so(apiwago):
    apiwago.session(TOKEN).started = True
    apiwago.session(TOKEN).qr_ready = False
    result = adapter.device_qr(device=device())
    assert not result.ok
    assert result.reason == api.REASON_QR_NOT_READY


def test_qr_of_a_logged_in_session_reports_the_connection(logged_in):
    result = adapter.device_qr(device=device())
    assert result.ok
    assert result.data["qr"] == ""
    assert result.data["connected"] is True
    assert result.data["phone"] == "6287700000001"
    assert result.data["name"] == "Toko Sapa"


def test_pairing_code_for_the_devices_number(apiwago):
    result = adapter.device_pairing_code(device=device(), phone="")

    assert result.ok and result.data["code"] == "K7QF-2M9X"
    assert apiwago.requests[0].path == "/api/pair"
    assert apiwago.requests[0].json == {"token": TOKEN, "phone": "6287700000001"}


def test_pairing_code_of_a_logged_in_session_is_refused_in_words(logged_in):
    result = adapter.device_pairing_code(device=device(), phone="6287700000001")
    assert not result.ok
    assert result.reason == api.REASON_ALREADY_LOGGED_IN


def test_profile_reads_the_status_route(logged_in):
    result = adapter.device_profile(device=device())

    assert result.ok
    assert result.data == {
        "connected": True,
        "name": "Toko Sapa",
        "phone": "6287700000001",
        "picture_url": "https://pps.whatsapp.net/v/t61/profile.jpg",
        "jid": "6287700000001:12@s.whatsapp.net",
    }
    assert logged_in.requests[0].method == "GET"
    assert logged_in.requests[0].query == {"token": TOKEN}


def test_profile_of_a_session_not_logged_in_is_disconnected(apiwago):
    result = adapter.device_profile(device=device())
    assert result.ok and result.data["connected"] is False


def test_logout_then_logout_again_says_not_logged_in(logged_in):
    assert adapter.device_logout(device=device()).ok
    assert logged_in.requests[-1].query == {"token": TOKEN}
    again = adapter.device_logout(device=device())
    assert not again.ok
    assert again.reason == api.REASON_NOT_LOGGED_IN_LOGOUT


def test_reconnect_and_its_failure_in_the_gateways_words(logged_in, apiwago):
    assert adapter.device_reconnect(device=device()).ok
    failed = adapter.device_reconnect(device=device("never-started"))
    assert not failed.ok
    assert failed.reason == "failed to connect: websocket: bad handshake"


def test_set_webhook_gives_apiwago_the_incoming_url(apiwago):
    urls = WebhookUrls(
        incoming="https://sapa.example.com/hooks/apiwago/k/incoming",
        status="https://sapa.example.com/hooks/apiwago/k/status",
        connect="https://sapa.example.com/hooks/apiwago/k/connect",
    )
    result = adapter.device_set_webhooks(device=device(), urls=urls)

    assert result.ok
    assert apiwago.requests[0].json == {"token": TOKEN, "url": urls.incoming}
    assert apiwago.session(TOKEN).webhook == urls.incoming


def test_delete_removes_the_session(logged_in):
    result = adapter.device_delete(device=device())
    assert result.ok
    assert logged_in.requests[0].method == "DELETE"
    assert TOKEN not in logged_in.sessions


def test_devices_list_reads_every_session(apiwago):
    apiwago.scan("toko-a", phone="6287700000001", name="Toko A")
    apiwago.session("toko-b")
    result = adapter.devices_list(account_token="")

    assert result.ok
    assert result.data["total"] == 2
    assert [d["token"] for d in result.data["devices"]] == ["toko-a", "toko-b"]
    assert result.data["devices"][0]["jid"] == "6287700000001:12@s.whatsapp.net"


def test_operations_with_a_wrong_key_are_refused_in_words(apiwago, settings):
    settings.APIWAGO_API_KEY = "wrong"
    for operation in (
        adapter.device_profile,
        adapter.device_connect,
        adapter.device_logout,
        adapter.device_reconnect,
        adapter.device_delete,
    ):
        result = operation(device=device())
        assert not result.ok and result.reason == api.REASON_UNAUTHORIZED


def test_operations_on_an_unreachable_server_say_so(settings):
    settings.APIWAGO_API_URL = f"http://127.0.0.1:{free_port()}"
    result = adapter.device_profile(device=device())
    assert not result.ok and result.reason == REASON_UNREACHABLE


def test_operation_timeout_is_reported(settings):
    listener, release = _silent_server(close_after_request=False)
    settings.APIWAGO_API_URL = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings.GATEWAY_READ_TIMEOUT = 0.5
    try:
        result = adapter.device_logout(device=device())
    finally:
        release.set()
        listener.close()
    assert not result.ok and result.reason == REASON_TIMEOUT


def test_every_reason_of_the_adapter_is_explained():
    for reason in api.REASONS:
        assert reason_text(reason) == reason


def test_not_on_whatsapp_reads_in_indonesian_too():
    from django.utils.translation import override

    with override("id"):
        assert reason_text(api.REASON_NOT_ON_WHATSAPP) == "Nomor ini tidak terdaftar di WhatsApp."


def test_the_adapters_own_reasons_are_translated_once_not_explained_twice():
    from devices_app.gateways.registry import reason_is_own

    for reason in (*api.REASONS, api.REASON_NOT_CONFIGURED, REASON_TIMEOUT):
        assert reason_is_own(reason), reason
