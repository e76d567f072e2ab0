"""The sandbox customer page in a real browser (a phone-sized window, in Indonesian): the
customer sends a text, replies quoting it with a photo, and shares a location; the agent's
workspace shows the photo (copied by the worker from the sandbox's link, as from Fonnte's) and
the location, without a reload. Screenshots of both pages are saved under test-artifacts/."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from agents.services import agent_create
from devices_app.models import Device
from tests.factories import DeviceFactory, DivisionFactory
from tests.gateway_server import free_port
from tests.servers import uvicorn_server
from tests.workers import WorkerProcess, database_url_of_tests

from .conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.django_db(transaction=True)

DEVICE_NUMBER = "6281100000001"


def png(width: int = 160, height: int = 100) -> bytes:
    """A real, decodable picture (a teal box), so the browsers can show it."""
    row = b"\x00" + bytes((15, 118, 110)) * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def sandbox_stack(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    """Uvicorn and a worker with the sandbox on, serving on the address PUBLIC_BASE_URL names
    (the sandbox's file links point there, and the worker fetches them)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": database_url_of_tests(),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_DEBUG": "false",
        "AXES_ENABLED": "false",
        "SANDBOX_ENABLED": "true",
        "PUBLIC_BASE_URL": base,
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        "MEDIA_ALLOW_PRIVATE_URLS": "true",
        "PYTHONUNBUFFERED": "1",
    }
    worker = WorkerProcess(env=env, concurrency=2)
    try:
        worker.wait_ready()
        with uvicorn_server(env, port=port) as (url, _log):
            yield url
    finally:
        worker.stop()


@pytest.fixture
def desk():
    division = DivisionFactory(name="Sales", online_only=False)
    device = DeviceFactory(
        number=DEVICE_NUMBER,
        name="Toko Sandbox",
        gateway=Device.Gateway.SANDBOX,
        division=division,
        status=Device.Status.CONNECTED,
    )
    return device, agent_create(name="Ani", device=device, division=division, token="sbx-ani")


def test_a_customer_sends_a_quoted_photo_and_a_location(sandbox_stack, desk, artifacts, tmp_path):
    device, ani = desk
    photo = tmp_path / "foto.png"
    photo.write_bytes(png())
    expect.set_options(timeout=30_000)  # a bound for slow machines, not a timing assertion
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        agent = browser.new_context(viewport={"width": 1366, "height": 860}, locale="en-US")
        workspace = agent.new_page()
        workspace.goto(sandbox_stack + "/login")
        workspace.fill("input[name=device_number]", DEVICE_NUMBER)
        workspace.fill("input[name=token]", ani.token)
        workspace.click("button[type=submit]")
        expect(workspace.locator("#connection-status")).to_have_attribute("data-state", "open")

        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
        customer = phone.new_page()
        for page in (workspace, customer):
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console",
                lambda msg: (
                    errors.append(msg.text) if "Content Security Policy" in msg.text else None
                ),
            )
        customer.goto(
            f"{sandbox_stack}/sandbox/chat?device={device.pk}&number=6281234567890&name=Rama"
        )
        customer.fill("#sandbox-text", "Halo, mau tanya stok")
        customer.locator("#sandbox-compose button[type=submit]").click()
        bubble = customer.locator(".sandbox-bubble.sandbox-in", has_text="mau tanya stok")
        expect(bubble).to_be_visible()

        # Reply quoting that message, with a photo as the caption's file.
        bubble.locator(".sandbox-reply").click()
        expect(customer.locator(".sandbox-quote-bar")).to_contain_text("mau tanya stok")
        customer.fill("#sandbox-text", "Yang ini ya")
        customer.locator("#sandbox-compose summary").click()
        customer.set_input_files("#sandbox-file", str(photo))
        customer.locator("#sandbox-compose button[type=submit]").click()
        quoted = customer.locator(".sandbox-bubble.sandbox-in", has_text="Yang ini ya")
        expect(quoted.locator(".sandbox-quoted")).to_contain_text("mau tanya stok")
        expect(quoted.locator("img")).to_be_visible()
        expect(customer.locator(".sandbox-quote-bar")).to_have_count(0)

        # A location, typed the Indonesian way.
        customer.locator("#sandbox-compose summary").click()
        customer.fill("#sandbox-lat", "-6,2088")
        customer.fill("#sandbox-lng", "106,8456")
        customer.locator("#sandbox-compose button[type=submit]").click()
        expect(customer.locator(".sandbox-bubble.sandbox-in").last).to_contain_text(
            "-6.2088,106.8456"
        )
        customer.screenshot(path=str(artifacts / "sandbox-customer-id-390.png"))

        # The agent sees all three, live: the photo once the worker has copied it.
        workspace.locator("#conversation-list .conversation-link", has_text="Rama").click()
        thread = workspace.locator("#thread-pane")
        expect(thread).to_contain_text("mau tanya stok")
        expect(thread.locator(".message-image img")).to_be_visible()
        expect(thread.locator(".message-location")).to_contain_text("-6.2088")
        workspace.screenshot(path=str(artifacts / "sandbox-agent-en-1366.png"))
        browser.close()
    assert errors == []
