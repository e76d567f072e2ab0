"""The collision guard in a real browser, two agents in two browser contexts: both open the
chat waiting in their division's queue and each sees the other "is viewing", live, and one
sees the other typing a note there; when one takes it, the other's page lets go of it and the
taker's line empties. Screenshots in English and Indonesian at 1366 px and 390 px are saved
under test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from agents.services import agent_create
from chats.models import Conversation
from tests.factories import ContactFactory, ConversationFactory, DeviceFactory, DivisionFactory

from .conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.django_db(transaction=True)

DEVICE_NUMBER = "6287700000001"


@pytest.fixture
def desk():
    # Limit 0: rotation gives nobody the chat, so it waits in the queue for both to see.
    division = DivisionFactory(name="Sales", online_only=False, max_open_chats=0)
    device = DeviceFactory(number=DEVICE_NUMBER, division=division)
    agents = {
        name: agent_create(
            name=name, device=device, division=division, token=f"sapa_collide-{name.lower()}"
        )
        for name in ("Ani", "Budi")
    }
    queued = ConversationFactory(
        contact=ContactFactory(device=device, address="6282100000001", name="Rama"),
        last_message_preview="Halo, stok masih ada?",
    )
    return agents, queued


def agent_page(browser, stack, agent, errors: list[str], *, locale: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 860}, locale=locale)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.goto(stack.base_url + "/login")
    page.fill("input[name=device_number]", DEVICE_NUMBER)
    page.fill("input[name=token]", agent.token)
    page.click("button[type=submit]")
    expect(page.locator("#connection-status")).to_have_attribute("data-state", "open")
    return page


def open_queued_chat(page, conversation: Conversation) -> None:
    page.goto(page.url.split("/inbox")[0] + f"/inbox/c/{conversation.pk}")
    expect(page.locator("#connection-status")).to_have_attribute("data-state", "open")
    expect(page.locator("#thread-pane")).to_have_attribute(
        "data-conversation-id", str(conversation.pk)
    )


@pytest.mark.parametrize(
    ("locale", "width", "viewing", "typing"),
    [
        ("en-US", 1366, "{} is viewing", "{} is typing…"),
        ("id-ID", 390, "{} sedang melihat", "{} sedang mengetik…"),
    ],
)
def test_two_agents_on_one_chat_see_each_other(
    stack, desk, artifacts, locale, width, viewing, typing
):
    agents, queued = desk
    expect.set_options(timeout=30_000)  # a bound for slow machines, not a timing assertion
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ani = agent_page(browser, stack, agents["Ani"], errors, locale=locale, width=width)
        budi = agent_page(browser, stack, agents["Budi"], errors, locale=locale, width=width)
        open_queued_chat(ani, queued)
        open_queued_chat(budi, queued)

        line = f"#collision-{queued.pk}"
        expect(ani.locator(line)).to_be_visible()
        expect(ani.locator(line)).to_contain_text(viewing.format("Budi"))
        expect(budi.locator(line)).to_contain_text(viewing.format("Ani"))
        tag = locale[:2]
        ani.screenshot(path=str(artifacts / f"collision-viewing-{tag}-{width}.png"))

        # Budi writes a note for the team in the queued chat: Ani sees him typing.
        budi.locator("#thread-pane textarea[data-note-box]").press_sequentially("cek stok dulu")
        expect(ani.locator(f"{line} .collision-person.is-typing")).to_contain_text(
            typing.format("Budi")
        )
        ani.screenshot(path=str(artifacts / f"collision-typing-{tag}-{width}.png"))

        # Ani takes the chat: Budi may no longer see it; his page lets go, her line empties.
        ani.locator('#thread-pane form[action$="/take"] button').click()
        expect(ani.locator("#thread-pane form[data-composer]")).to_be_visible()
        expect(budi.locator("#thread-pane")).not_to_have_attribute(
            "data-conversation-id", str(queued.pk)
        )
        expect(ani.locator(line)).to_be_hidden()
        browser.close()
    assert errors == []
