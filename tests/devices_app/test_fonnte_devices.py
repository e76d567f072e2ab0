"""Fonnte's device operations through the adapter, against a local server answering as Fonnte
does (docs/ARCHITECTURE.md "Fonnte's protocol"): what each call sends, what it makes of the
answer, and that a refusal reaches the caller in Fonnte's own words."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer

from devices_app.gateways import registry
from devices_app.gateways.base import REASON_UNREACHABLE, WebhookUrls
from tests.factories import DeviceFactory
from tests.gateway_server import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def fonnte(settings):
    server = HTTPServer(host="127.0.0.1", port=free_port())
    server.start()
    settings.FONNTE_API_URL = f"http://127.0.0.1:{server.port}"
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def device():
    return DeviceFactory(number="6287700000001", name="Sales", gateway_token="dev-token")


ADAPTER = registry.gateway_named("fonnte")


def test_profile_reads_status_quota_expiry_and_package(fonnte, device):
    fonnte.expect_request(
        "/device", method="POST", headers={"Authorization": "dev-token"}
    ).respond_with_json(
        {
            "device": "6287700000001",
            "device_status": "connect",
            "expired": "18 November 2029",
            "messages": 12,
            "name": "Sales",
            "package": "Super",
            "quota": "78",
            "status": True,
        }
    )
    result = ADAPTER.device_profile(device=device)
    assert result.ok
    assert result.data["connected"] is True
    assert (result.data["quota"], result.data["expires"], result.data["package"]) == (
        "78",
        "18 November 2029",
        "Super",
    )


def test_a_refused_token_reaches_the_caller_in_fonntes_words(fonnte, device):
    fonnte.expect_request("/device").respond_with_json({"reason": "token invalid", "status": False})
    result = ADAPTER.device_profile(device=device)
    assert (result.ok, result.reason) == (False, "token invalid")
    assert registry.reason_text(result.reason)  # explained for the admin


def test_qr_is_a_data_url_and_already_connected_is_refused(fonnte, device):
    fonnte.expect_ordered_request(
        "/qr", method="POST", json={"type": "qr", "whatsapp": device.number}
    ).respond_with_json({"status": True, "url": "iVBORw0KGgo="})
    fonnte.expect_ordered_request("/qr").respond_with_json(
        {"reason": "device already connect", "status": False}
    )
    first = ADAPTER.device_qr(device=device)
    assert first.data["qr"] == "data:image/png;base64,iVBORw0KGgo="
    second = ADAPTER.device_qr(device=device)
    assert (second.ok, second.reason) == (False, "device already connect")


def test_configure_webhooks_sends_the_three_urls_and_autoread(fonnte, device):
    fonnte.expect_request("/update-device").respond_with_json(
        {"detail": "device updated!", "status": True}
    )
    urls = WebhookUrls(incoming="https://s/i", status="https://s/s", connect="https://s/c")
    assert ADAPTER.device_set_webhooks(device=device, urls=urls).ok
    (request, _response) = fonnte.log[0]
    body = json.loads(request.data)
    assert (body["webhook"], body["webhookstatus"], body["webhookconnect"]) == (
        "https://s/i",
        "https://s/s",
        "https://s/c",
    )
    assert body["autoread"] is True and body["name"] == "Sales"


def test_disconnect_reads_its_error_from_detail(fonnte, device):
    fonnte.expect_request("/disconnect").respond_with_json(
        {"detail": "device already disconnected", "status": False}
    )
    result = ADAPTER.device_logout(device=device)
    assert (result.ok, result.reason) == (False, "device already disconnected")


def test_delete_takes_two_steps_with_an_otp(fonnte, device):
    fonnte.expect_ordered_request("/delete-device", json={"otp": ""}).respond_with_json(
        {"detail": "otp sent", "status": True}
    )
    fonnte.expect_ordered_request("/delete-device", json={"otp": "123456"}).respond_with_json(
        {"reason": "incorrect OTP", "status": False}
    )
    assert ADAPTER.device_delete(device=device).ok
    refused = ADAPTER.device_delete(device=device, otp="123456")
    assert (refused.ok, refused.reason) == (False, "incorrect OTP")


def test_the_account_lists_its_devices(fonnte):
    fonnte.expect_request(
        "/get-devices", headers={"Authorization": "account-token"}
    ).respond_with_json(
        {
            "connected": 1,
            "data": [
                {
                    "autoread": "off",
                    "device": "6281200000001",
                    "expired": "1893456000",
                    "name": "Main",
                    "package": "Free",
                    "quota": "1000",
                    "status": "connect",
                    "token": "tok-1",
                }
            ],
            "devices": 1,
            "status": True,
            "type": "device",
        }
    )
    result = ADAPTER.devices_list(account_token="account-token")
    assert result.ok
    assert result.data["devices"] == [
        {
            "number": "6281200000001",
            "name": "Main",
            "token": "tok-1",
            "connected": True,
            "quota": "1000",
            "package": "Free",
        }
    ]


def test_an_unreachable_gateway_is_said_in_words(settings, device):
    settings.FONNTE_API_URL = f"http://127.0.0.1:{free_port()}"
    result = ADAPTER.device_profile(device=device)
    assert (result.ok, result.reason) == (False, REASON_UNREACHABLE)
