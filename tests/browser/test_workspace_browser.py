"""The agent's day in a real browser: headless Chromium (Debian's), Uvicorn and a Celery worker
started by the test, a local Fonnte-speaking gateway. A chat arrives by webhook and appears
without a reload; the reply goes out through the worker with the right Fonnte fields; the
status webhooks turn its tick to delivered, then read; a refused reply shows why and goes
through on Retry."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import connection
from playwright.sync_api import expect, sync_playwright

from agents.services import agent_create
from chats.models import Message
from tests.factories import DeviceFactory, DivisionFactory
from tests.fonnte import fixture, hook_url
from tests.gateway_server import accept, refuse

from .conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.django_db(transaction=True)

DEVICE_NUMBER = "6287700000001"
DEVICE_TOKEN = "fonnte-device-token-browser"
CUSTOMER = "6282100000002"  # the sender in incoming_private_captured.json


def orm(func):
    """Run ORM code off the test thread: Playwright's sync API keeps an event loop here."""

    def run():
        try:
            return func()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.fixture
def desk():
    division = DivisionFactory(name="Sales", online_only=False)
    device = DeviceFactory(number=DEVICE_NUMBER, division=division, gateway_token=DEVICE_TOKEN)
    ani = agent_create(name="Ani", device=device, division=division, token="sapa_browser-ani")
    return device, ani


def webhook(stack, device, kind: str, body: dict) -> None:
    response = httpx.post(
        stack.base_url + hook_url(device, kind),
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_agent_receives_replies_and_sees_delivery_in_the_browser(stack, desk, artifacts):
    device, ani = desk
    gateway = stack.gateway
    gateway.respond(accept, refuse("insufficient quota"), accept)
    expect.set_options(timeout=30_000)  # a bound for slow machines, not a timing assertion

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 820}, locale="en-US")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # The CSP allows no inline script or style: anything the page does must stay inside it.
        page.on(
            "console",
            lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
        )

        page.goto(stack.base_url + "/login")
        page.fill("input[name=device_number]", DEVICE_NUMBER)
        page.fill("input[name=token]", ani.token)
        page.click("button[type=submit]")
        expect(page.locator("#connection-status")).to_have_attribute("data-state", "open")
        page.evaluate("window.sapaSamePage = true")

        # A customer writes: the chat appears live, without a reload.
        webhook(stack, device, "incoming", fixture("incoming_private_captured"))
        row = page.locator("#conversation-list .conversation-item", has_text="Rama")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Halo")
        assert page.evaluate("window.sapaSamePage") is True

        # Keyboard: "/" focuses search; ↓ reaches the row; Enter opens it.
        page.keyboard.press("/")
        expect(page.locator("#inbox-search")).to_be_focused()
        page.keyboard.press("ArrowDown")
        expect(row.locator(".conversation-link")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#thread-pane .message-in", has_text="Halo")).to_have_count(1)
        expect(page.locator("#thread-pane .thread-side")).to_contain_text("Why this agent")

        # Reply: Shift+Enter is a new line, Enter sends; the bubble shows at once.
        page.keyboard.press("r")
        box = page.locator("textarea[data-enter-sends]")
        expect(box).to_be_focused()
        box.type("Halo Rama,")
        box.press("Shift+Enter")
        box.type("paket A Rp 100.000")
        box.press("Enter")
        bubble = page.locator("#thread-pane .message-out", has_text="paket A")
        expect(bubble).to_have_count(1)
        expect(box).to_have_value("")
        message_id = bubble.get_attribute("data-message-id")
        ticks = page.locator(f"#message-{message_id}-status")
        expect(ticks).to_have_attribute("data-status", "sent")

        # The gateway got exactly Fonnte's fields, authorised by the device token.
        assert len(gateway.requests) == 1
        sent = gateway.requests[0]
        assert sent.headers["authorization"] == DEVICE_TOKEN
        assert sent.json == {
            "target": CUSTOMER,
            "message": "Halo Rama,\npaket A Rp 100.000",
            "countryCode": "0",
        }

        # Status webhooks move the tick forward; the push lands on the same bubble.
        gateway_id = orm(lambda: Message.objects.get(pk=message_id).gateway_message_id)
        assert gateway_id
        webhook(
            stack,
            device,
            "status",
            {"device": DEVICE_NUMBER, "id": gateway_id, "status": "delivered"},
        )
        expect(ticks).to_have_attribute("data-status", "delivered")
        webhook(
            stack, device, "status", {"device": DEVICE_NUMBER, "id": gateway_id, "status": "read"}
        )
        expect(ticks).to_have_attribute("data-status", "read")
        expect(page.locator(f"[id='message-{message_id}']")).to_have_count(1)

        # A reply the gateway refuses ends visibly failed, with the reason, and Retry sends it.
        box.type("Pesanan kedua")
        box.press("Enter")
        second = page.locator("#thread-pane .message-out", has_text="Pesanan kedua")
        expect(second).to_have_count(1)
        second_id = second.get_attribute("data-message-id")
        second_ticks = page.locator(f"#message-{second_id}-status")
        expect(second_ticks).to_have_attribute("data-status", "failed")
        expect(second_ticks).to_contain_text("message quota is used up")
        page.screenshot(path=str(artifacts / "workspace-failed-en.png"))
        second_ticks.get_by_role("button", name="Retry").click()
        expect(second_ticks).to_have_attribute("data-status", "sent")
        assert len(gateway.requests) == 3
        assert gateway.requests[2].json["message"] == "Pesanan kedua"
        expect(page.locator(f"[id='message-{second_id}']")).to_have_count(1)
        assert page.evaluate("window.sapaSamePage") is True
        page.screenshot(path=str(artifacts / "workspace-en.png"))

        # A click on a chat that is gone (taken by a colleague while this page was offline)
        # answers 404: the page says so instead of doing nothing.
        page.evaluate(
            "htmx.ajax('POST', '/inbox/c/999999/take', {target: '#thread-pane', swap: 'outerHTML'})"
        )
        expect(page.locator("#workspace-toast")).to_be_visible()
        expect(page.locator("#workspace-toast")).to_contain_text("no longer available")
        expect(page.locator(f"[id='message-{second_id}']")).to_have_count(1)

        # The same screen in Indonesian.
        context.add_cookies([{"name": "django_language", "value": "id", "url": stack.base_url}])
        page.reload()
        expect(page.locator("html")).to_have_attribute("lang", "id")
        expect(page.locator("#connection-status")).to_have_attribute("data-state", "open")
        page.screenshot(path=str(artifacts / "workspace-id.png"))

        assert errors == []
        browser.close()
