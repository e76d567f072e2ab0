"""Search everywhere and the device banner in a real browser, in English at 1366 px and in
Indonesian at 390 px: a search lists hits from every tab, each saying its tab; a disconnect of
the division's other number reaches an agent who logs in with another one, live, and the open
thread's header says so. Screenshots are saved under test-artifacts/."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from agents.services import agent_create
from chats.models import Conversation, Message
from tests.factories import ContactFactory, ConversationFactory, DeviceFactory, DivisionFactory
from tests.fonnte import fixture, hook_url

from .conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.django_db(transaction=True)

OPEN, QUEUED, RESOLVED = (
    Conversation.Status.OPEN,
    Conversation.Status.QUEUED,
    Conversation.Status.RESOLVED,
)


@pytest.fixture
def desk():
    # Limit 0: the queued chat stays queued when the agent's socket connects.
    division = DivisionFactory(name="Sales", online_only=False, max_open_chats=0)
    # The captured Fonnte bodies are addressed to 6287700000001: the number that drops.
    dropping = DeviceFactory(number="6287700000001", name="Toko Pusat", division=division)
    own = DeviceFactory(number="6287700000002", name="Toko Cabang", division=division)
    ani = agent_create(name="Ani", device=own, division=division, token="sapa_search-ani")
    chats = {}
    for key, name, status in (
        ("open", "Rama", OPEN),
        ("resolved", "Sari", RESOLVED),
        ("queued", "Tono", QUEUED),
    ):
        contact = ContactFactory(device=dropping, address=f"62812000000{len(chats)}", name=name)
        chats[key] = ConversationFactory(
            contact=contact,
            agent=ani.agent if status != QUEUED else None,
            status=status,
            last_message_preview="ongkir ke Bandung?",
        )
        Message.objects.create(
            conversation=chats[key], device=dropping, direction="in", text="ongkir ke Bandung?"
        )
    return dropping, ani, chats


@pytest.mark.parametrize(
    ("locale", "width", "tabs", "off"),
    [
        ("en-US", 1366, ("Mine", "Resolved", "Queue"), "disconnected: replies wait"),
        ("id-ID", 390, ("Milik saya", "Selesai", "Antrean"), "terputus: balasan menunggu"),
    ],
)
def test_search_everywhere_and_a_colleague_numbers_disconnect(
    stack, desk, artifacts, locale, width, tabs, off
):
    dropping, ani, chats = desk
    expect.set_options(timeout=30_000)  # a bound for slow machines, not a timing assertion
    errors: list[str] = []
    tag = locale[:2]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": 860}, locale=locale)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(stack.base_url + "/login")
        page.fill("input[name=device_number]", "6287700000002")
        page.fill("input[name=token]", ani.token)
        page.click("button[type=submit]")
        expect(page.locator("#connection-status")).to_have_attribute("data-state", "open")

        page.fill("#inbox-search", "bandung")
        listing = page.locator("#conversation-list")
        expect(listing).to_have_attribute("data-query", "bandung")
        mine, resolved, queue = tabs
        for key, label in (("open", mine), ("resolved", resolved)):
            row = page.locator(f"#conversation-{chats[key].pk}")
            expect(row.locator(".tag-tab")).to_have_text(label)
            expect(row.locator(".tag-tab")).to_be_visible()
        expect(page.locator(f"#conversation-{chats['queued'].pk} .tag-queue")).to_have_text(queue)
        page.screenshot(path=str(artifacts / f"search-everywhere-{tag}-{width}.png"))

        # The other number of the division drops while Ani has one of its chats open.
        page.locator(f"#conversation-{chats['open'].pk} .conversation-link").click()
        expect(page.locator("#thread-pane")).to_have_attribute(
            "data-conversation-id", str(chats["open"].pk)
        )
        response = httpx.post(
            stack.base_url + hook_url(dropping, "connect"),
            json=fixture("connect_disconnect"),
            timeout=10,
        )
        assert response.status_code == 200
        banner = page.locator(f"#device-{dropping.pk}-banner .device-banner")
        expect(banner).to_contain_text("Toko Pusat")
        expect(banner).to_contain_text("logged out from phone")
        expect(page.locator(f"#thread-device-{dropping.pk}")).to_contain_text(off)
        page.screenshot(path=str(artifacts / f"device-banner-{tag}-{width}.png"))
        browser.close()
    assert errors == []
