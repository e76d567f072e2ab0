"""The device console on the admin's device page, against a local server speaking Fonnte's
device protocol (docs/ARCHITECTURE.md "The device console", "Fonnte's protocol"): each
operation sends what Fonnte expects, records what the answer proves, and every refusal Fonnte
documents reaches the page in plain words."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from pytest_httpserver import HTTPServer

from config.celery import app as celery_app
from devices_app.console import services
from devices_app.models import Device
from tests.factories import DeviceFactory, DivisionFactory, StaffFactory, UserFactory
from tests.fonnte import hook_url
from tests.gateway_server import free_port

pytestmark = pytest.mark.django_db

NUMBER = "6287700000001"
TOKEN = "fonnte-device-token-0001"


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
    return DeviceFactory(number=NUMBER, name="Sales", gateway_token=TOKEN)


@pytest.fixture
def staff(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def operation_url(device: Device, operation: str) -> str:
    return reverse("admin:devices_app_device_console_operation", args=[device.pk, operation])


def run(client, device: Device, operation: str, **data) -> str:
    response = client.post(operation_url(device, operation), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def change_page(client, device: Device) -> str:
    response = client.get(reverse("admin:devices_app_device_change", args=[device.pk]))
    assert response.status_code == 200
    return response.content.decode()


def profile_body(**overrides) -> dict:
    body = {
        "device": NUMBER,
        "device_status": "connect",
        "expired": "18 November 2029",
        "messages": 12,
        "name": "Sales",
        "package": "Super",
        "quota": "78",
        "status": True,
    }
    body.update(overrides)
    return body


def requests_to(server: HTTPServer, path: str) -> list:
    return [request for request, _response in server.log if request.path == path]


# --- Credentials at rest ----------------------------------------------------------------------


def raw_token_column(device: Device) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT gateway_token FROM devices_app_device WHERE id = %s", [device.pk])
        return cursor.fetchone()[0]


def test_the_gateway_token_is_not_readable_in_the_database_column(device):
    raw = raw_token_column(device)
    assert TOKEN not in raw
    assert raw.startswith("enc1:")
    assert Device.objects.get(pk=device.pk).gateway_token == TOKEN
    # Encrypted with a fresh nonce each time: equal tokens do not even look alike.
    other = DeviceFactory(gateway_token=TOKEN)
    assert raw_token_column(other) != raw


def test_the_data_migration_encrypts_tokens_stored_in_clear_and_back(device):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("devices_app.migrations.0004_gateway_credentials_encrypted")
    with connection.cursor() as cursor:  # a row as it was before the migration: in clear
        cursor.execute(
            "UPDATE devices_app_device SET gateway_token = %s WHERE id = %s",
            ["clear-token-from-before", device.pk],
        )
    migration.encrypt_existing(apps, None)
    assert "clear-token-from-before" not in raw_token_column(device)
    assert Device.objects.get(pk=device.pk).gateway_token == "clear-token-from-before"
    migration.encrypt_existing(apps, None)  # run twice: still one layer of encryption
    assert Device.objects.get(pk=device.pk).gateway_token == "clear-token-from-before"
    migration.decrypt_existing(apps, None)  # backwards: in clear again
    assert raw_token_column(device) == "clear-token-from-before"


def test_the_console_never_shows_the_token_in_full(staff, device):
    html = change_page(staff, device)
    assert TOKEN not in html
    assert "••••••••0001" in html


# --- Token checked when saved -----------------------------------------------------------------


def add_device(client, **overrides):
    data = {
        "name": "Sales",
        "number": "0877 0000 0001",
        "gateway": "fonnte",
        "gateway_token": TOKEN,
        "gateway_instance": "",
        "division": DivisionFactory().pk,
        "is_active": "on",
    }
    data.update(overrides)
    return client.post(reverse("admin:devices_app_device_add"), data)


def test_a_device_whose_token_fonnte_accepts_is_saved(staff, fonnte):
    fonnte.expect_request(
        "/device", method="POST", headers={"Authorization": TOKEN}
    ).respond_with_json(profile_body())
    response = add_device(staff)
    assert response.status_code == 302
    assert Device.objects.get(number=NUMBER).gateway_token == TOKEN


def test_a_wrong_token_is_refused_with_fonntes_reason_and_nothing_is_saved(staff, fonnte):
    fonnte.expect_request("/device").respond_with_json({"reason": "token invalid", "status": False})
    response = add_device(staff)
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "The gateway refused this token: The gateway refused the device token. (token invalid)"
        in html
    )
    assert not Device.objects.filter(number=NUMBER).exists()


def test_a_token_of_another_number_is_refused(staff, fonnte):
    fonnte.expect_request("/device").respond_with_json(profile_body(device="6281299999999"))
    html = add_device(staff).content.decode()
    assert (
        "This token belongs to the gateway&#x27;s device 6281299999999, not to 6287700000001."
        in html
    )
    assert not Device.objects.filter(number=NUMBER).exists()


def test_an_unreachable_gateway_refuses_the_save_in_words(staff, settings):
    settings.FONNTE_API_URL = f"http://127.0.0.1:{free_port()}"
    html = add_device(staff).content.decode()
    assert "The token could not be checked: The gateway could not be reached." in html
    assert not Device.objects.filter(number=NUMBER).exists()


def test_a_sandbox_device_is_saved_without_a_gateway_check(staff, fonnte):
    # The sandbox's tokens are Sapa's own: there is no gateway to ask (in development the check
    # would ask Sapa's simulator about a device that does not exist yet, and refuse it).
    response = add_device(staff, gateway="sandbox", gateway_token="sandbox-token-0001")
    assert response.status_code == 302
    assert Device.objects.get(number=NUMBER).gateway == "sandbox"
    assert fonnte.log == []


def test_saving_without_touching_the_token_asks_the_gateway_nothing(staff, fonnte, device):
    data = {
        "name": "Sales desk",
        "number": NUMBER,
        "gateway": "fonnte",
        "gateway_token": "",
        "gateway_instance": "",
        "division": device.division_id,
        "is_active": "on",
    }
    response = staff.post(reverse("admin:devices_app_device_change", args=[device.pk]), data)
    assert response.status_code == 302
    assert fonnte.log == []
    device.refresh_from_db()
    assert (device.name, device.gateway_token) == ("Sales desk", TOKEN)


# --- Profile (cached) -------------------------------------------------------------------------


def test_refresh_profile_shows_quota_package_expiry_and_the_connection(staff, fonnte, device):
    fonnte.expect_request("/device", method="POST").respond_with_json(profile_body())
    html = run(staff, device, "profile")
    assert "Profile read from the gateway." in html
    for shown in ("78", "Super", "18 November 2029", "Connected"):
        assert shown in html
    device.refresh_from_db()
    assert (device.quota, device.package, device.status) == ("78", "Super", "connected")


def test_the_profile_is_cached_because_fonnte_rate_limits_it(staff, fonnte, device):
    fonnte.expect_request("/device").respond_with_json(profile_body())
    run(staff, device, "profile")
    html = run(staff, device, "profile")
    assert "the gateway limits how often its profile may be asked" in html
    assert len(requests_to(fonnte, "/device")) == 1


@pytest.fixture
def eager_tasks():
    """Tasks run in this process (the real task, not a stand-in), when enqueued."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_a_connect_webhook_reads_the_profile_again(
    client, fonnte, device, eager_tasks, django_capture_on_commit_callbacks
):
    fonnte.expect_request("/device").respond_with_json(profile_body(quota="977"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            hook_url(device, "connect"),
            json.dumps({"device": NUMBER, "status": "connect", "timestamp": 1736700000}),
            content_type="application/json",
        )
    assert response.status_code == 200
    device.refresh_from_db()
    assert (device.status, device.quota) == ("connected", "977")
    assert device.profile_checked_at is not None


def test_a_profile_read_just_before_the_connect_webhook_is_read_again(
    client, fonnte, device, eager_tasks, django_capture_on_commit_callbacks
):
    # Read seconds before the phone scanned the QR: it still says "disconnect" and the old quota.
    Device.objects.filter(pk=device.pk).update(quota="1000", profile_checked_at=timezone.now())
    fonnte.expect_request("/device").respond_with_json(profile_body(quota="977"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            hook_url(device, "connect"),
            json.dumps({"device": NUMBER, "status": "connect"}),
            content_type="application/json",
        )
    device.refresh_from_db()
    assert device.quota == "977"


def test_a_repeated_profile_task_asks_the_gateway_nothing(fonnte, device):
    from devices_app.tasks import device_profile_refresh

    fonnte.expect_request("/device").respond_with_json(profile_body())
    requested_at = timezone.now().timestamp()
    device_profile_refresh(device.pk, requested_at)
    device_profile_refresh(device.pk, requested_at)  # acks_late: the same task again
    assert len(requests_to(fonnte, "/device")) == 1


# --- Connect by QR ----------------------------------------------------------------------------


def test_connect_by_qr_shows_the_image_that_refreshes_until_connected(staff, fonnte, device):
    fonnte.expect_request(
        "/qr", method="POST", json={"type": "qr", "whatsapp": NUMBER}
    ).respond_with_json({"status": True, "url": "iVBORw0KGgo="})
    html = run(staff, device, "qr")
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html
    assert 'hx-trigger="every 15s, sapa:device-changed from:body"' in html


def test_the_qr_panel_stops_when_fonnte_says_the_device_is_connected(staff, fonnte, device):
    fonnte.expect_request("/qr").respond_with_json(
        {"reason": "device already connect", "status": False}
    )
    url = reverse("admin:devices_app_device_console_qr", args=[device.pk])
    response = staff.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 286  # htmx stops polling
    assert "Connected." in response.content.decode()
    device.refresh_from_db()
    assert device.status == "connected"


def test_the_qr_stops_renewing_when_nobody_scans(staff, fonnte, device, settings):
    settings.GATEWAY_QR_MAX_RENEWALS = 3
    fonnte.expect_request("/qr").respond_with_json({"status": True, "url": "iVBORw0KGgo="})
    url = reverse("admin:devices_app_device_console_qr", args=[device.pk])
    html = staff.get(url, {"renewal": "3"}, HTTP_HX_REQUEST="true").content.decode()
    assert "?renewal=4" in html  # still renewing
    html = staff.get(url, {"renewal": "4"}, HTTP_HX_REQUEST="true").content.decode()
    assert "stopped renewing it" in html
    assert "hx-trigger" not in html
    assert len(requests_to(fonnte, "/qr")) == 1


# --- Disconnect, webhooks, delete -------------------------------------------------------------


def test_disconnect_logs_the_device_out(staff, fonnte, device):
    device.status = Device.Status.CONNECTED
    device.save()
    fonnte.expect_request(
        "/disconnect", method="POST", headers={"Authorization": TOKEN}
    ).respond_with_json({"detail": "device disconnected", "status": True})
    html = run(staff, device, "logout")
    assert "The device was disconnected from WhatsApp." in html
    device.refresh_from_db()
    assert device.status == "disconnected"


def test_configure_webhooks_sends_sapas_three_urls_with_autoread(staff, fonnte, device, settings):
    settings.PUBLIC_BASE_URL = "https://sapa.example.com"
    fonnte.expect_request("/update-device", method="POST").respond_with_json(
        {"detail": "device updated!", "status": True}
    )
    html = run(staff, device, "webhooks")
    assert "The gateway now calls Sapa&#x27;s webhook URLs." in html
    sent = json.loads(requests_to(fonnte, "/update-device")[0].data)
    base = f"https://sapa.example.com/hooks/fonnte/{device.webhook_key}"
    assert sent == {
        "name": "Sales",
        "webhook": f"{base}/incoming",
        "webhookstatus": f"{base}/status",
        "webhookconnect": f"{base}/connect",
        "autoread": True,
        "personal": True,
        "group": True,
    }


def test_delete_takes_fonntes_code_in_two_steps(staff, fonnte, device):
    fonnte.expect_ordered_request("/delete-device", json={"otp": ""}).respond_with_json(
        {"detail": "otp sent", "status": True}
    )
    fonnte.expect_ordered_request("/delete-device", json={"otp": "123456"}).respond_with_json(
        {"detail": "device 0877 successfully deleted", "status": True}
    )
    html = run(staff, device, "delete", step="request")
    assert "Fonnte sent a code to the WhatsApp number of the account owner." in html
    html = run(staff, device, "delete", otp="123456")
    assert "The device was deleted at the gateway." in html
    device.refresh_from_db()
    assert (device.is_active, device.gateway_token, device.status) == (False, "", "disconnected")


def test_delete_without_the_code_asks_for_it_and_calls_nothing(staff, fonnte, device):
    html = run(staff, device, "delete", otp="")
    assert "Enter the code the gateway sent." in html
    assert fonnte.log == []


# --- Every documented refusal, in words -------------------------------------------------------

REFUSALS = [
    # (operation, post data, Fonnte path, answer, words on the page)
    ("profile", {}, "/device", {"reason": "token invalid", "status": False},
     "The gateway refused the device token. (token invalid)"),
    ("qr", {}, "/qr", {"reason": "token invalid", "status": False},
     "The gateway refused the device token. (token invalid)"),
    ("logout", {}, "/disconnect", {"detail": "token invalid", "status": False},
     "The gateway refused the device token. (token invalid)"),
    ("webhooks", {}, "/update-device", {"reason": "device not found", "status": False},
     "Fonnte has no device with this token. (device not found)"),
    ("webhooks", {}, "/update-device", {"reason": "webhook url invalid", "status": False},
     "Fonnte refused a webhook address: it must be a public https URL. (webhook url invalid)"),
    ("delete", {"step": "request"}, "/delete-device", {"reason": "invalid device", "status": False},
     "Fonnte does not know this device (it may be deleted already). (invalid device)"),
    ("delete", {"step": "request"}, "/delete-device",
     {"reason": "please wait 312 seconds before requesting new otp", "status": False},
     "Fonnte sends a new code only every 10 minutes: wait 312 seconds and ask again."),
    ("delete", {"otp": "1"}, "/delete-device",
     {"reason": "otp haven't requested", "status": False},
     "Ask Fonnte for a code first, then enter it."),
    ("delete", {"otp": "1"}, "/delete-device",
     {"reason": "delete failed. try again in 30 seconds", "status": False},
     "Fonnte could not delete the device now: try again in 30 seconds."),
    ("delete", {"otp": "1"}, "/delete-device", {"reason": "incorrect OTP", "status": False},
     "The code is not the one Fonnte sent. (incorrect OTP)"),
    ("profile", {}, "/device", {"reason": "something new", "status": False},
     "Fonnte answered: “something new”."),
]  # fmt: skip


@pytest.mark.parametrize(("operation", "data", "path", "answer", "words"), REFUSALS)
def test_every_documented_refusal_reaches_the_page_in_words(
    staff, fonnte, device, operation, data, path, answer, words
):
    fonnte.expect_request(path, method="POST").respond_with_json(answer)
    html = run(staff, device, operation, **data)
    assert words.replace("'", "&#x27;") in html
    device.refresh_from_db()
    assert (device.is_active, device.gateway_token) == (True, TOKEN)


def test_already_disconnected_is_not_a_failure(staff, fonnte, device):
    fonnte.expect_request("/disconnect").respond_with_json(
        {"detail": "device already disconnected", "status": False}
    )
    html = run(staff, device, "logout")
    assert "The device is already disconnected." in html
    assert "console-ok" in html


def test_an_unreachable_gateway_is_said_in_words(staff, settings, device):
    settings.FONNTE_API_URL = f"http://127.0.0.1:{free_port()}"
    assert "The gateway could not be reached." in run(staff, device, "profile")


# --- Import from the account ------------------------------------------------------------------

GET_DEVICES = {
    "connected": 1,
    "data": [
        {"autoread": "off", "device": "6287700000002", "expired": "1861920000", "name": "Support",
         "package": "Free", "quota": "1000", "status": "connect", "token": "tok-support"},
        {"autoread": "off", "device": NUMBER, "expired": "1861920000", "name": "Sales",
         "package": "Super", "quota": "78", "status": "disconnect", "token": TOKEN},
    ],
    "devices": 2,
    "messages": 0,
    "status": True,
    "type": "device",
}  # fmt: skip


def test_the_account_token_lists_and_imports_the_accounts_devices(staff, fonnte, device):
    fonnte.expect_request(
        "/get-devices", method="POST", headers={"Authorization": "account-token"}
    ).respond_with_json(GET_DEVICES)
    url = reverse("admin:devices_app_device_import")
    form = {"gateway": "fonnte", "account_token": "account-token", "division": device.division_id}
    html = staff.post(url, {**form, "list": "1"}).content.decode()
    assert "Support" in html and "Already in Sapa" in html
    assert "tok-support" not in html  # device tokens never reach the browser
    response = staff.post(url, {**form, "import": "1", "number": ["6287700000002", NUMBER]})
    assert response.status_code == 302
    imported = Device.objects.get(number="6287700000002")
    assert (imported.name, imported.gateway_token, imported.status) == (
        "Support",
        "tok-support",
        "connected",
    )
    assert Device.objects.filter(number=NUMBER).count() == 1


def test_a_refused_account_token_is_said_in_words(staff, fonnte, device):
    fonnte.expect_request("/get-devices").respond_with_json(
        {"reason": "unknown user", "status": False}
    )
    html = staff.post(
        reverse("admin:devices_app_device_import"),
        {"gateway": "fonnte", "account_token": "x", "division": device.division_id, "list": "1"},
    ).content.decode()
    assert "Fonnte refused the account token. (unknown user)" in html


# --- What the page offers ---------------------------------------------------------------------


def test_a_fonnte_device_page_offers_fonntes_operations(staff, device):
    html = change_page(staff, device)
    for label in ("Refresh profile", "Connect by QR", "Disconnect", "Configure webhooks",
                  "Delete this device at the gateway"):  # fmt: skip
        assert label in html
    assert "Start session" not in html and "pairing code" not in html


def test_the_buttons_fit_the_connection(staff, device):
    device.status = Device.Status.CONNECTED
    device.save()
    html = change_page(staff, device)
    assert 'data-operation="logout"' in html and 'data-operation="qr"' not in html
    device.status = Device.Status.DISCONNECTED
    device.save()
    html = change_page(staff, device)
    assert 'data-operation="qr"' in html and 'data-operation="logout"' not in html


def test_a_sandbox_device_page_offers_only_what_the_sandbox_can(staff):
    sandbox = DeviceFactory(gateway=Device.Gateway.SANDBOX)
    html = change_page(staff, sandbox)
    assert "Connect by QR" in html and "Refresh profile" in html
    for label in ("Disconnect", "Configure webhooks", "Delete this device at the gateway"):
        assert label not in html
    response = staff.post(operation_url(sandbox, "logout"))
    assert response.status_code == 404


def test_the_webhook_urls_name_their_fonnte_field_with_copy_buttons(staff, device):
    html = change_page(staff, device)
    base = f"/hooks/fonnte/{device.webhook_key}"
    for kind, field in (("incoming", "webhook"), ("status", "webhookstatus"),
                        ("connect", "webhookconnect")):  # fmt: skip
        assert f"{base}/{kind}" in html
        assert f"<code>{field}</code>" in html
        assert f'data-copy-target="webhook-url-{kind}"' in html


@pytest.mark.parametrize(
    ("public_base_url", "warned"),
    [
        ("http://127.0.0.1:8000", True),
        ("https://localhost", True),
        ("https://10.0.0.5", True),
        ("https://192.168.1.20:8443", True),
        ("http://sapa.example.com", True),
        ("https://sapa.example.com", False),
    ],
)
def test_the_page_says_when_the_gateway_cannot_reach_sapa(
    staff, device, settings, public_base_url, warned
):
    settings.PUBLIC_BASE_URL = public_base_url
    html = change_page(staff, device)
    assert ("The gateway cannot reach Sapa." in html) is warned
    if warned:
        assert "Set PUBLIC_BASE_URL" in html or "set PUBLIC_BASE_URL" in html


def test_only_staff_reach_the_console(client, device, fonnte):
    url = operation_url(device, "profile")
    assert client.post(url).status_code == 302  # to the admin login
    client.force_login(UserFactory(is_staff=True))  # staff without the device permission
    assert client.post(url).status_code == 403
    assert fonnte.log == []


def test_public_url_problem_is_empty_for_a_public_https_address(settings):
    settings.PUBLIC_BASE_URL = "https://desk.example.co.id"
    assert services.public_url_problem() == ""
