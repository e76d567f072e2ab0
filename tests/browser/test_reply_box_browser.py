"""The reply box through a chat's life, in a real browser (headless Chromium, Uvicorn, the real
socket): after Resolve the box left is plainly a note box; Reopen brings back a working reply
box (its placeholder, "/" for quick replies), also after a reload; the location panel reads a
decimal comma as Indonesian agents type it, and a pasted "lat,lng" pair still fills both."""

from __future__ import annotations

import contextlib
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from templates_app.models import QuickReply
from tests.fonnte import fixture
from tests.gateway_server import accept

from .conftest import CHROMIUM, CHROMIUM_ARGS
from .test_workspace_browser import DEVICE_NUMBER, desk, webhook  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

# Marks on <html> how the thread pane's resync ended, for Playwright to wait on: answered and
# swapped in, or aborted by the page.
WATCH_RESYNC = """
document.addEventListener("htmx:beforeSwap", (event) => {
  const detail = event.detail;
  if (detail.elt && detail.elt.id === "thread-pane" && detail.requestConfig.verb === "get") {
    document.documentElement.dataset.resyncEnded = "swapped";
  }
});
document.addEventListener("htmx:sendAbort", (event) => {
  if (event.detail.elt && event.detail.elt.id === "thread-pane") {
    document.documentElement.dataset.resyncEnded = "aborted";
  }
});
"""

REPLY_PLACEHOLDER = "Write a reply… ( / for quick replies)"
NOTE_PLACEHOLDER = "Add an internal note for your team…"


def signed_in(playwright, stack, agent, errors: list[str]):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 1366, "height": 820}, locale="en-US")
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(stack.base_url + "/login")
    page.fill("input[name=device_number]", DEVICE_NUMBER)
    page.fill("input[name=token]", agent.token)
    page.click("button[type=submit]")
    expect(page.locator("#connection-status")).to_have_attribute("data-state", "open")
    return browser, page


def open_rama(stack, device, page):
    webhook(stack, device, "incoming", fixture("incoming_private_captured"))
    page.locator("#conversation-list .conversation-link", has_text="Rama").click()
    expect(page.locator("#thread-pane .message-in", has_text="Halo")).to_have_count(1)


def test_after_resolve_the_box_left_says_it_is_a_note(stack, desk, artifacts):  # noqa: F811
    device, ani = desk
    expect.set_options(timeout=30_000)  # a bound for slow machines, not a timing assertion
    errors: list[str] = []

    with sync_playwright() as playwright:
        browser, page = signed_in(playwright, stack, ani, errors)
        open_rama(stack, device, page)
        pane = page.locator("#thread-pane")
        expect(pane.locator("textarea[data-enter-sends]")).to_have_attribute(
            "placeholder", REPLY_PLACEHOLDER
        )

        # Resolve, no reload: the box left is the note box, and says so.
        pane.get_by_role("button", name="Resolve").click()
        expect(pane).to_have_attribute("data-status", "resolved")
        note_box = pane.locator("form.composer-note-only textarea")
        expect(note_box).to_have_count(1)
        expect(note_box).to_have_attribute("placeholder", NOTE_PLACEHOLDER)
        expect(note_box).to_have_attribute("data-note-box", "")
        expect(pane.locator("textarea[data-enter-sends]")).to_have_count(0)
        expect(pane).not_to_contain_text("{#")  # no template comment leaks onto the page
        page.screenshot(path=str(artifacts / "workspace-resolved-en.png"))

        assert errors == []
        browser.close()


def test_reopen_brings_back_a_working_reply_box(stack, desk):  # noqa: F811
    device, ani = desk
    QuickReply.objects.create(shortcut="thanks", title="Thank you", text="Thank you {name}.")
    expect.set_options(timeout=30_000)
    errors: list[str] = []

    with sync_playwright() as playwright:
        browser, page = signed_in(playwright, stack, ani, errors)
        open_rama(stack, device, page)
        pane = page.locator("#thread-pane")
        pane.get_by_role("button", name="Resolve").click()
        expect(pane).to_have_attribute("data-status", "resolved")

        # Reopen after a reload (the page a new session shows): a reply box that works. Every
        # socket connect makes the pane resync; a quick agent clicks Reopen while that is on
        # its way. Both requests are held here, and the resync's answer released first: its
        # (resolved) pane must not win over the Reopen.
        held: dict[str, list] = {"resync": [], "reopen": []}

        def hold(route):
            request = route.request
            if request.method == "GET" and request.headers.get("hx-request"):
                held["resync"].append(route)
            elif request.method == "POST" and request.url.endswith("/reopen"):
                held["reopen"].append(route)
            else:
                route.continue_()

        page.route("**/inbox/c/**", hold)
        page.add_init_script(WATCH_RESYNC)
        page.reload()
        expect(page.locator("#connection-status")).to_have_attribute("data-state", "open")
        expect(pane).to_have_class(re.compile(r"\bhtmx-request\b"))
        with page.expect_request(lambda request: request.url.endswith("/reopen")):
            pane.get_by_role("button", name="Reopen").click()
        for route in held["resync"]:
            with contextlib.suppress(PlaywrightError):  # the page aborted it already
                route.continue_()
        expect(page.locator("html")).to_have_attribute(
            "data-resync-ended", re.compile("aborted|swapped")
        )
        assert len(held["reopen"]) == 1
        held["reopen"][0].continue_()
        page.unroute("**/inbox/c/**")
        expect(pane).to_have_attribute("data-status", "open")
        expect(page.locator("html")).to_have_attribute("data-resync-ended", "aborted")
        reply = pane.locator("form.composer:not(.composer-note-only) textarea[name=text]")
        expect(reply).to_have_count(1)
        expect(reply).to_have_attribute("placeholder", REPLY_PLACEHOLDER)
        expect(reply).to_have_attribute("data-enter-sends", "")
        expect(pane.locator("form.composer-note-only")).to_have_count(0)
        reply.click()
        reply.type("/")
        expect(pane.locator(".picker .picker-option", has_text="thanks")).to_have_count(1)
        reply.press("Enter")
        expect(reply).to_have_value("Thank you Rama.")

        # Resolve and Reopen without a reload: the same.
        pane.get_by_role("button", name="Resolve").click()
        expect(pane.locator("form.composer-note-only textarea")).to_have_attribute(
            "placeholder", NOTE_PLACEHOLDER
        )
        pane.get_by_role("button", name="Reopen").click()
        expect(reply).to_have_attribute("placeholder", REPLY_PLACEHOLDER)
        expect(reply).to_have_attribute("data-enter-sends", "")

        assert errors == []
        browser.close()


def test_location_panel_reads_decimal_commas_and_pasted_pairs(stack, desk):  # noqa: F811
    device, ani = desk
    stack.gateway.respond(accept)
    expect.set_options(timeout=30_000)
    errors: list[str] = []

    with sync_playwright() as playwright:
        browser, page = signed_in(playwright, stack, ani, errors)
        open_rama(stack, device, page)
        page.locator("#thread-pane [data-tool=location]").click()
        panel = page.locator("#thread-pane form[data-composer-tool=location]")
        lat, lng = panel.get_by_label("Latitude"), panel.get_by_label("Longitude")
        map_link = panel.locator("[data-location-map]")

        # Typed key by key, as an Indonesian agent writes it: each field keeps its own value.
        lat.type("-6,2088")
        expect(lat).to_have_value("-6,2088")
        expect(lng).to_have_value("")
        lng.type("106,8456")
        expect(lat).to_have_value("-6,2088")
        expect(lng).to_have_value("106,8456")
        expect(map_link).to_have_attribute(
            "href",
            "https://www.openstreetmap.org/?mlat=-6.2088&mlon=106.8456#map=17/-6.2088/106.8456",
        )

        # A single decimal-comma value pasted is one number, not a pair.
        lat.fill("")
        lng.fill("")
        lat.focus()
        page.keyboard.insert_text("-6,2088")
        expect(lat).to_have_value("-6,2088")
        expect(lng).to_have_value("")

        # A pair copied from a map fills both fields, with dots or with decimal commas.
        lat.fill("")
        lat.focus()
        page.keyboard.insert_text("-6.175392, 106.827153")
        expect(lat).to_have_value("-6.175392")
        expect(lng).to_have_value("106.827153")
        lat.fill("")
        lng.fill("")
        lng.focus()
        page.keyboard.insert_text("-6,175392; 106,827153")
        expect(lat).to_have_value("-6,175392")
        expect(lng).to_have_value("106,827153")

        # Sent with commas: the bubble shows the point.
        lat.fill("-6,2088")
        lng.fill("106,8456")
        panel.get_by_role("button", name="Send location").click()
        expect(
            page.locator("#thread-pane .message-out .message-location", has_text="-6.2088")
        ).to_have_count(1)

        assert errors == []
        browser.close()
