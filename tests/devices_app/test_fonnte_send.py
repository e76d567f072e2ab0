"""The Fonnte `/send` adapter against real local servers: what reaches the gateway, and how each
answer (or silence) is classified."""

from __future__ import annotations

import socket
import threading

import pytest

from devices_app.gateways.fonnte.send import (
    REASON_BAD_GATEWAY_URL,
    REASON_UNCONFIRMED_DROPPED,
    REASON_UNCONFIRMED_TIMEOUT,
    REASON_UNREACHABLE,
    FonnteClient,
    parse_send_response,
    text_payload,
)
from tests.gateway_server import (  # noqa: F401
    accept,
    free_port,
    gateway_fixture,
    http_error,
    refuse,
    slow,
)


def send(url: str, **payload):
    return FonnteClient().send(
        base_url=url,
        token="device-token-123",
        target="6281234567890",
        payload=payload or text_payload(text="Halo"),
    )


def test_success_sends_fonntes_fields_with_the_raw_token_and_records_the_ids(gateway):
    result = send(gateway.url, **text_payload(text="Halo 👋", inbox_id=4321))

    assert result.ok
    assert len(result.message_ids) == 1 and result.message_ids[0].isdigit()
    assert result.request_id
    [request] = gateway.requests
    # Fonnte takes the raw device token, no "Bearer".
    assert request.headers["authorization"] == "device-token-123"
    assert request.json == {
        "target": "6281234567890",
        "message": "Halo 👋",
        "countryCode": "0",
        "inboxid": 4321,
    }


def test_no_inboxid_without_a_quoted_inbox_message(gateway):
    send(gateway.url, **text_payload(text="Halo"))
    assert "inboxid" not in gateway.requests[0].json


@pytest.mark.parametrize(
    "reason",
    [
        "token invalid",
        "target invalid",
        "input invalid",
        "insufficient quota",
        "devices must belong to an account",
        "url invalid",
        "file format not supported",
        "file size must under 4MB",
        "JSON format invalid",
    ],
)
def test_known_refusals_are_permanent(gateway, reason):
    gateway.respond(refuse(reason))
    result = send(gateway.url)
    assert not result.ok
    assert result.permanent
    assert result.certainly_not_sent
    assert result.reason == reason


def test_an_unknown_refusal_is_retryable_because_nothing_was_queued(gateway):
    gateway.respond(refuse("server busy"))
    result = send(gateway.url)
    assert (result.ok, result.permanent, result.certainly_not_sent) == (False, False, True)


@pytest.mark.parametrize("status", [500, 503, 521, 522, 429])
def test_server_errors_and_throttling_are_retryable(gateway, status):
    gateway.respond(http_error(status))
    result = send(gateway.url)
    assert (result.ok, result.permanent, result.certainly_not_sent) == (False, False, True)
    assert result.http_status == status


@pytest.mark.parametrize("status", [502, 504, 520, 524])
def test_a_proxy_that_lost_the_answer_is_an_unknown_outcome(gateway, status):
    # A proxy passed the request on, then gave up waiting or lost the connection: the gateway
    # behind it may still have queued the message, so it is never repeated automatically.
    gateway.respond(http_error(status))
    result = send(gateway.url)
    assert result.unknown
    assert result.http_status == status


@pytest.mark.parametrize("status", [301, 302, 400, 401, 404])
def test_redirects_and_client_errors_are_permanent(gateway, status):
    gateway.respond(http_error(status))
    result = send(gateway.url)
    assert result.permanent and result.certainly_not_sent


def test_connection_refused_is_certainly_not_sent():
    result = send(f"http://127.0.0.1:{free_port()}")
    assert (result.ok, result.permanent, result.certainly_not_sent) == (False, False, True)
    assert result.reason == REASON_UNREACHABLE


def test_read_timeout_is_an_unknown_outcome_after_one_request(gateway, settings):
    settings.GATEWAY_READ_TIMEOUT = 0.3
    gateway.respond(slow(1.5))
    result = send(gateway.url)
    assert result.unknown
    assert result.reason == REASON_UNCONFIRMED_TIMEOUT
    assert len(gateway.requests) == 1


def test_connection_reset_after_the_request_was_written_is_an_unknown_outcome():
    """A server that reads the whole request, then resets the connection without answering."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    received = []

    def serve():
        conn, _ = listener.accept()
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        received.append(data)
        # SO_LINGER 0: close with RST instead of FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        result = send(f"http://127.0.0.1:{listener.getsockname()[1]}")
    finally:
        thread.join(timeout=10)
        listener.close()
    assert len(received) == 1 and b"POST /send" in received[0]
    assert result.unknown
    assert result.reason == REASON_UNCONFIRMED_DROPPED


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        (b'{"status": true, "id": ["1", "2"], "requestid": 9}', True),
        (b'{"Status": "true", "id": "7"}', True),
        (b'{"STATUS": false, "reason": "target invalid"}', False),
    ],
)
def test_status_key_and_values_are_read_case_insensitively(body, ok):
    result = parse_send_response(200, body)
    assert result.ok is ok
    if ok:
        assert result.message_ids in (["1", "2"], ["7"])
    else:
        assert result.permanent


@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"detail": "?"}', b"[]"])
def test_an_unreadable_success_answer_is_an_unknown_outcome(body):
    assert parse_send_response(200, body).unknown


def test_accept_behaviour_of_the_test_gateway_is_fonntes_success_shape(gateway):
    # Guards the helper itself: ids are a list of strings, one per target.
    gateway.respond(accept)
    assert send(gateway.url).message_ids[0].isdigit()


@pytest.mark.parametrize("url", ["api.fonnte.com", "ftp://127.0.0.1:1"])
def test_an_unusable_gateway_address_is_permanent_and_nothing_was_sent(url):
    result = send(url)
    assert result.permanent and result.certainly_not_sent
    assert result.reason == REASON_BAD_GATEWAY_URL
