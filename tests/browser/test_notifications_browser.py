"""Notifications in a real browser (headless Chromium, Uvicorn, the real socket): one click
enables them; a chat the agent is not reading raises a desktop notification and a count in the
tab title; reading it clears the count; the chat being read stays quiet; the bell mutes the
notification but not the count; clicking a notification opens its chat.

Headless Chromium cannot show desktop notifications, so the page's `Notification` is replaced
by a recorder (a browser API, not our code); permission is granted through Playwright."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.fonnte import fixture

from .conftest import CHROMIUM, CHROMIUM_ARGS
from .test_workspace_browser import DEVICE_NUMBER, desk, orm, webhook  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

# The title is read with `expect(...)`, which waits: notify.js changes it after the push or the
# read lands, so a bare `page.title()` right after a click races it.
UNCOUNTED = re.compile(r"^[^(]")

RECORD_NOTIFICATIONS = """
(() => {
  window.sapaNotes = [];
  window.sapaSignals = [];
  const Real = window.Notification;
  class Recorder {
    constructor(title, options) {
      this.title = title;
      this.body = (options || {}).body;
      this.onclick = null;
      window.sapaNotes.push(this);
      document.documentElement.dataset.notes = String(window.sapaNotes.length);
    }
    close() {}
    static get permission() { return Real.permission; }
    static requestPermission(callback) { return Real.requestPermission(callback); }
  }
  window.Notification = Recorder;
  // Counts on <html>, for Playwright to wait on (the CSP forbids wait_for_function's eval).
  document.addEventListener("sapa:signal", (event) => {
    window.sapaSignals.push(event.detail);
    document.documentElement.dataset.signals = String(window.sapaSignals.length);
  });
})();
"""


def message_from(name: str, number: str, text: str, inbox_id: int) -> dict:
    body = dict(fixture("incoming_private_captured"))
    body.update(
        {
            "pesan": text,
            "message": text,
            "name": name,
            "sender": number,
            "pengirim": number,
            "inboxid": inbox_id,
        }
    )
    return body


def test_notifications_count_alert_and_open_the_chat(stack, desk, artifacts):  # noqa: F811
    device, ani = desk
    expect.set_options(timeout=30_000)  # a bound for slow machines, not a timing assertion

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        context.grant_permissions(["notifications"], origin=stack.base_url)
        context.add_init_script(RECORD_NOTIFICATIONS)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        page.goto(stack.base_url + "/login")
        page.fill("input[name=device_number]", DEVICE_NUMBER)
        page.fill("input[name=token]", ani.token)
        page.click("button[type=submit]")
        expect(page.locator("#connection-status")).to_have_attribute("data-state", "open")
        assert page.evaluate("document.hasFocus()"), "the page must count as focused"

        # Permission is granted, but sound still needs the one click; then the button hides.
        enable = page.locator("#notify-enable")
        expect(enable).to_be_visible()
        enable.click()
        expect(enable).to_be_hidden()
        page.screenshot(path=str(artifacts / "notifications-enabled.png"))

        # A new chat while no chat is open: notification, and the title counts it.
        webhook(stack, device, "incoming", message_from("Rama", "6282100000002", "Halo", 1))
        rama = page.locator("#conversation-list .conversation-item", has_text="Rama")
        expect(rama).to_have_count(1)
        expect(page).to_have_title("(1) Inbox · Sapa")
        signals = page.evaluate("window.sapaSignals")
        assert [(s["kind"], s["counted"], s["desktop"]) for s in signals] == [
            ("new-chat", True, True)
        ]
        note = page.evaluate("window.sapaNotes.map(n => [n.title, n.body])")
        assert note == [["Rama", "New chat: Halo"]]

        # Opening it is looking at it: the count goes.
        page.locator("#conversation-list .conversation-link", has_text="Rama").click()
        expect(page.locator("#thread-pane .message-in", has_text="Halo")).to_have_count(1)
        expect(page).to_have_title(UNCOUNTED)

        # A message in the chat being read: no notification, no count.
        webhook(stack, device, "incoming", message_from("Rama", "6282100000002", "Mau pesan", 2))
        expect(page.locator("#thread-pane .message-in", has_text="Mau pesan")).to_have_count(1)
        expect(page.locator("html")).to_have_attribute("data-signals", "2")
        last = page.evaluate("window.sapaSignals[1]")
        assert (last["kind"], last["counted"], last["desktop"]) == ("message", False, False)
        assert page.evaluate("window.sapaNotes.length") == 1

        # Muted: another customer's chat still counts, but no notification.
        page.click("#mute-switch button")
        expect(page.locator("#mute-switch")).to_have_attribute("data-muted", "1")
        expect(page.locator("#mute-switch button")).to_have_attribute("aria-pressed", "true")
        webhook(stack, device, "incoming", message_from("Sinta", "6282100000003", "Permisi", 3))
        expect(page.locator("html")).to_have_attribute("data-signals", "3")
        last = page.evaluate("window.sapaSignals[2]")
        assert (last["kind"], last["counted"], last["desktop"]) == ("new-chat", True, False)
        expect(page).to_have_title(re.compile(r"^\(1\) "))
        page.screenshot(path=str(artifacts / "notifications-muted-count.png"))

        # Unmuted: Sinta writes again; clicking the notification opens her chat.
        page.click("#mute-switch button")
        expect(page.locator("#mute-switch")).to_have_attribute("data-muted", "0")
        webhook(stack, device, "incoming", message_from("Sinta", "6282100000003", "Halo?", 4))
        expect(page.locator("html")).to_have_attribute("data-notes", "2")
        assert page.evaluate("[window.sapaNotes[1].title, window.sapaNotes[1].body]") == [
            "Sinta",
            "Halo?",
        ]
        expect(page).to_have_title(re.compile(r"^\(2\) "))
        page.evaluate("window.sapaNotes[1].onclick()")
        expect(page.locator("#thread-pane .thread-title")).to_have_text("Sinta")
        expect(page.locator("#thread-pane .message-in", has_text="Halo?")).to_have_count(1)
        expect(page).to_have_title(UNCOUNTED)

        assert errors == []
        browser.close()
