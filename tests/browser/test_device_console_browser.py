"""The device console in a real browser: headless Chromium (Debian's), Uvicorn and a Celery
worker started by the test, a local server speaking Fonnte's device protocol. Staff open a
Fonnte device, connect it by QR (the image renews while it waits), and the gateway's connect
webhook turns the page to Connected, with the profile read after it, without a reload."""

from __future__ import annotations

import base64
import json
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import connection
from playwright.sync_api import expect, sync_playwright
from werkzeug import Request, Response

from tests.factories import DeviceFactory, DivisionFactory, StaffFactory
from tests.fonnte import hook_url

from .conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "6287700000001"
TOKEN = "fonnte-console-token-0001"
QR_REFRESH_SECONDS = 2


def png(seed: int, size: int = 29) -> str:
    """A small black-and-white PNG (a stand-in for Fonnte's QR), base64, different per seed."""
    rows = b""
    for y in range(size):
        row = bytes((0 if ((x * 7 + y * 13 + seed * 5) % 3 == 0) else 255) for x in range(size))
        rows += b"\x00" + row

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
    return base64.b64encode(raw + chunk(b"IEND", b"")).decode()


class FonnteDevice:
    """Fonnte's /qr and /device for one device: a new QR on each request while disconnected."""

    def __init__(self) -> None:
        self.connected = threading.Event()
        self.qr_served: list[str] = []

    def qr(self, request: Request) -> Response:
        assert request.headers.get("Authorization") == TOKEN
        if self.connected.is_set():
            body = {"reason": "device already connect", "status": False}
        else:
            image = png(len(self.qr_served))
            self.qr_served.append(image)
            body = {"status": True, "url": image}
        return Response(json.dumps(body), content_type="application/json")

    def profile(self, request: Request) -> Response:
        connected = self.connected.is_set()
        body = {
            "device": NUMBER,
            "device_status": "connect" if connected else "disconnect",
            "expired": "18 November 2029",
            "messages": 0,
            "name": "Sales",
            "package": "Super",
            "quota": "977" if connected else "1000",
            "status": True,
        }
        return Response(json.dumps(body), content_type="application/json")


def orm(func):
    """Run ORM code off the test thread: Playwright's sync API keeps an event loop here."""

    def run():
        try:
            return func()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.fixture(scope="module")
def fast_qr() -> Iterator[None]:
    # Read by the Uvicorn child the stack starts next (its environment extends this one).
    os.environ["GATEWAY_QR_REFRESH_SECONDS"] = str(QR_REFRESH_SECONDS)
    yield
    os.environ.pop("GATEWAY_QR_REFRESH_SECONDS", None)


@pytest.fixture
def console_stack(fast_qr, stack):
    fonnte = FonnteDevice()
    stack.gateway.server.expect_request("/qr", method="POST").respond_with_handler(fonnte.qr)
    stack.gateway.server.expect_request("/device", method="POST").respond_with_handler(
        fonnte.profile
    )
    stack.gateway.server.expect_request("/get-devices", method="POST").respond_with_json(
        {
            "connected": 1,
            "data": [
                {
                    "device": NUMBER,
                    "name": "Sales",
                    "package": "Super",
                    "quota": "977",
                    "status": "connect",
                    "token": TOKEN,
                    "autoread": "on",
                    "expired": "1861920000",
                },
                {
                    "device": "6287700000002",
                    "name": "Support",
                    "package": "Free",
                    "quota": "1000",
                    "status": "disconnect",
                    "token": "tok-support",
                    "autoread": "off",
                    "expired": "1861920000",
                },
            ],
            "devices": 2,
            "messages": 0,
            "status": True,
            "type": "device",
        }
    )
    return stack, fonnte


def test_staff_connect_a_fonnte_device_by_qr_and_see_it_connect_live(console_stack, artifacts):
    stack, fonnte = console_stack
    device = DeviceFactory(
        number=NUMBER, name="Sales", gateway_token=TOKEN, division=DivisionFactory(name="Sales")
    )
    StaffFactory(username="owner", is_superuser=True)
    expect.set_options(timeout=30_000)  # a bound for slow machines, not a timing assertion

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 1000}, locale="en-US")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
        )

        page.goto(stack.base_url + "/admin/login/")
        page.fill("input[name=username]", "owner")
        page.fill("input[name=password]", "staff-password")
        page.click("input[type=submit]")
        page.goto(f"{stack.base_url}/admin/devices_app/device/{device.pk}/change/")

        # The profile is read on opening (never read before): the card shows it.
        card = page.locator("#device-console-card")
        status = page.locator(f"#device-{device.pk}-status")
        expect(status).to_have_attribute("data-status", "disconnected")
        expect(card).to_contain_text("1000")
        expect(card).to_contain_text("Super")
        page.evaluate("window.sapaSamePage = true")

        # Connect by QR: the image shows, then renews while nobody has scanned it.
        page.get_by_role("button", name="Connect by QR").click()
        qr = page.get_by_role("img", name="QR code to scan with WhatsApp")
        expect(qr).to_be_visible()
        first = qr.get_attribute("src")
        assert first == f"data:image/png;base64,{fonnte.qr_served[0]}"
        page.screenshot(path=str(artifacts / "device-console-qr-en.png"), full_page=True)
        expect(qr).not_to_have_attribute("src", first)

        # The phone scans; Fonnte calls the connect webhook: the page turns without a reload.
        fonnte.connected.set()
        response = httpx.post(
            stack.base_url + hook_url(device, "connect"),
            content=json.dumps(
                {"device": NUMBER, "status": "connect", "timestamp": int(time.time())}
            ),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        expect(status).to_have_attribute("data-status", "connected")
        expect(page.locator("#device-console-qr")).to_contain_text("Connected.")
        expect(page.get_by_role("img", name="QR code to scan with WhatsApp")).to_have_count(0)
        # The buttons follow the state: nothing left to connect, a Disconnect to offer.
        expect(page.get_by_role("button", name="Connect by QR")).to_have_count(0)
        expect(page.get_by_role("button", name="Disconnect")).to_be_visible()
        # The worker reads the profile after the webhook; its push refreshes the card.
        expect(card).to_contain_text("977")
        assert page.evaluate("window.sapaSamePage") is True
        page.screenshot(path=str(artifacts / "device-console-connected-en.png"), full_page=True)

        # The account's devices, listed with the account token for import.
        page.goto(f"{stack.base_url}/admin/devices_app/device/import/")
        page.get_by_label("Account token").fill("account-token")
        page.get_by_label("Route their chats to division").select_option(label="Sales")
        page.get_by_role("button", name="List the devices").click()
        expect(page.get_by_role("table", name="Devices of this account")).to_contain_text(
            "Already in Sapa"
        )
        expect(page.get_by_role("table", name="Devices of this account")).to_contain_text("Support")
        page.screenshot(path=str(artifacts / "device-console-import-en.png"), full_page=True)
        page.goto(f"{stack.base_url}/admin/devices_app/device/{device.pk}/change/")

        # The same page in Indonesian.
        context.add_cookies([{"name": "django_language", "value": "id", "url": stack.base_url}])
        page.reload()
        expect(page.locator("html")).to_have_attribute("lang", "id")
        page.screenshot(path=str(artifacts / "device-console-id.png"), full_page=True)

        assert errors == []
        browser.close()
    assert orm(lambda: type(device).objects.get(pk=device.pk).status) == "connected"
