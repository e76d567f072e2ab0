"""The workspace as agents see it, in each language, on a desktop (1366 px) and a phone
(390 px): screenshots saved under test-artifacts/ (workspace-<language>-<width>.png) for a
person to look at, and what the phone header must still say: the agent's name, and the
presence and connection states in words, not two unlabelled dots."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from chats.models import Label
from tests.fonnte import fixture

from .conftest import CHROMIUM, CHROMIUM_ARGS
from .test_workspace_browser import DEVICE_NUMBER, desk, webhook  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

# The search box's placeholder, measured in its own font, fits the box (with the label filter
# beside it): a cut-off "Search name, number, te" tells nothing.
PLACEHOLDER_FITS = """(input) => {
  const style = getComputedStyle(input);
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  const text = context.measureText(input.placeholder).width;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return [text <= room, input.placeholder, text, room];
}"""

WORDS = {
    "en": {"presence": "Available", "connection": "Live"},
    "id": {"presence": "Tersedia", "connection": "Terhubung"},
}


@pytest.mark.parametrize("language", ["en", "id"])
def test_workspace_screens_in_each_language_and_width(stack, desk, artifacts, language):  # noqa: F811
    device, ani = desk
    # As in the demo data: with labels, the label filter sits beside the search box.
    Label.objects.create(name="VIP", color=Label.Color.PURPLE)
    Label.objects.create(name="Complaint", color=Label.Color.RED)
    expect.set_options(timeout=30_000)  # a bound for slow machines, not a timing assertion
    errors: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 820}, locale=language)
        context.add_cookies([{"name": "django_language", "value": language, "url": stack.base_url}])
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(stack.base_url + "/login")
        page.fill("input[name=device_number]", DEVICE_NUMBER)
        page.fill("input[name=token]", ani.token)
        page.click("button[type=submit]")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("#connection-status")).to_have_attribute("data-state", "open")

        webhook(stack, device, "incoming", fixture("incoming_private_captured"))
        webhook(stack, device, "incoming", fixture("incoming_location"))
        link = page.locator("#conversation-list .conversation-link", has_text="Rama")
        expect(link).to_have_count(1)
        link.click()
        expect(page.locator("#thread-pane .message-location")).to_have_count(1)
        page.screenshot(path=str(artifacts / f"workspace-{language}-1366.png"))
        fits = page.locator("#inbox-search").evaluate(PLACEHOLDER_FITS)
        assert fits[0], fits

        # The phone: the list first, then the open chat.
        page.set_viewport_size({"width": 390, "height": 844})
        expect(page.locator("#thread-pane .thread-back")).to_be_visible()
        page.screenshot(path=str(artifacts / f"workspace-{language}-390.png"))
        header = page.locator(".topbar")
        expect(header.locator(".agent-name")).to_be_visible()
        expect(header.locator(".agent-name")).to_have_text("Ani")
        presence = header.locator("#away-switch .label")
        connection = header.locator("#connection-status .label")
        expect(presence).to_be_visible()
        expect(presence).to_have_text(WORDS[language]["presence"])
        expect(connection).to_be_visible()
        expect(connection).to_have_text(WORDS[language]["connection"])
        # Nothing in the header spills past the screen's edge.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.goto(stack.base_url + "/inbox")
        expect(page.locator("#connection-status")).to_have_attribute("data-state", "open")
        page.screenshot(path=str(artifacts / f"workspace-{language}-390-list.png"))
        fits = page.locator("#inbox-search").evaluate(PLACEHOLDER_FITS)
        assert fits[0], fits

        assert errors == []
        browser.close()
