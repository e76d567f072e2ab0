"""The supervisor's board in a real browser (headless Chromium, Uvicorn, a Celery worker): it
changes without a reload when an agent comes online, when the supervisor sets them away, when a
chat has to queue and when a device disconnects; the reports page draws its charts under the
Content-Security-Policy. Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from playwright.sync_api import expect, sync_playwright

from agents.services import agent_create
from tests.factories import DeviceFactory, DivisionFactory
from tests.fonnte import fixture, hook_url

from .conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.django_db(transaction=True)

DEVICE_NUMBER = "6287700000001"


def orm(func):
    """ORM code off the test thread: Playwright's sync API keeps an event loop here."""

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
    device = DeviceFactory(
        number=DEVICE_NUMBER, name="Sales phone", division=division, gateway_token="tok"
    )
    ani = agent_create(name="Ani", device=device, division=division, token="sapa_browser-ani")
    get_user_model().objects.create_superuser("boss", password="boss-password-1")
    return device, ani


def webhook(stack, device, kind: str, body: dict) -> None:
    response = httpx.post(
        stack.base_url + hook_url(device, kind),
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_board_follows_the_desk_live(stack, desk, artifacts):
    device, ani = desk
    agent_id = ani.agent.pk
    expect.set_options(timeout=30_000)  # a bound for slow machines, not a timing assertion

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        errors: list[str] = []

        def watch(page):
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console",
                lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
            )
            return page

        supervisor = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
        board = watch(supervisor.new_page())
        board.goto(stack.base_url + "/admin/login/?next=/supervision/")
        board.fill("input[name=username]", "boss")
        board.fill("input[name=password]", "boss-password-1")
        board.click("input[type=submit]")
        expect(board.locator("#connection-status")).to_have_attribute("data-state", "open")
        row = board.locator(f"#agent-{agent_id}")
        expect(row).to_have_attribute("data-presence", "offline")
        board.evaluate("window.sapaSamePage = true")

        # The agent signs in elsewhere: the board shows them online.
        agent_page = watch(browser.new_context(locale="en-US").new_page())
        agent_page.goto(stack.base_url + "/login")
        agent_page.fill("input[name=device_number]", DEVICE_NUMBER)
        agent_page.fill("input[name=token]", ani.token)
        agent_page.click("button[type=submit]")
        expect(agent_page.locator("#connection-status")).to_have_attribute("data-state", "open")
        expect(row).to_have_attribute("data-presence", "online")

        # The supervisor sets them away from the board.
        row.get_by_role("button", name="Set away").click()
        expect(row).to_have_attribute("data-presence", "away")
        expect(board.locator("#actions-title + ul")).to_contain_text("Set away · Ani")

        # Nobody is eligible now: a customer's chat queues, and the board counts it.
        queue = board.locator(f"#division-{device.division_id} [data-queued]")
        expect(queue).to_have_attribute("data-queued", "0")
        webhook(stack, device, "incoming", fixture("incoming_private_captured"))
        expect(queue).to_have_attribute("data-queued", "1")
        expect(board.locator("#figure-in")).to_have_text("1")

        # The phone drops: the device row turns red and an alert names it.
        webhook(stack, device, "connect", fixture("connect_disconnect"))
        expect(board.locator(f"#device-{device.pk}")).to_have_attribute(
            "data-status", "disconnected"
        )
        expect(board.locator("#board-alerts")).to_contain_text("Sales phone")
        assert board.evaluate("window.sapaSamePage") is True  # all of it without a reload
        board.screenshot(path=str(artifacts / "supervision-board.png"), full_page=True)

        # The queued chat, read-only: its history and why nobody got it.
        board.locator(f"#division-{device.division_id} a").click()
        board.get_by_role("link", name="Rama").first.click()
        expect(board.locator(".history")).to_contain_text("Halo")
        expect(board.locator(".rotation-log")).to_contain_text("Ani: away")
        board.screenshot(path=str(artifacts / "supervision-conversation.png"), full_page=True)

        board.goto(stack.base_url + "/supervision/reports")
        expect(board.locator("#table-divisions")).to_contain_text("Sales")
        # Chart.js drew both charts (the vendored file loaded under the CSP).
        board.wait_for_function(
            "() => ['chart-divisions', 'chart-agents'].every(id => window.Chart.getChart(id))"
        )
        board.screenshot(path=str(artifacts / "supervision-reports.png"), full_page=True)
        browser.close()

    assert errors == []
