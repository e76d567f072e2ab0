"""The desk's tools in a real browser, with two agents in two browser contexts: the "/" quick-
reply picker fills a template for this customer, an ad hoc poll goes out and its tally moves when
the customer votes, and a transfer moves the chat from one agent's screen to the other's, with
the note, without a reload. Screenshots of the workspace in English and Indonesian are saved
under test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from agents.services import agent_create
from chats.models import Conversation
from templates_app.models import QuickReply
from tests.factories import DeviceFactory, DivisionFactory
from tests.fonnte import fixture
from tests.gateway_server import accept

from .conftest import CHROMIUM, CHROMIUM_ARGS
from .test_workspace_browser import orm, webhook

pytestmark = pytest.mark.django_db(transaction=True)

DEVICE_NUMBER = "6287700000001"
DEVICE_TOKEN = "fonnte-device-token-tools"
POLL_QUESTION = "How was our service today?"  # what incoming_poll_vote.json votes on


@pytest.fixture
def desk():
    division = DivisionFactory(name="Sales", online_only=False)
    device = DeviceFactory(number=DEVICE_NUMBER, division=division, gateway_token=DEVICE_TOKEN)
    agents = {
        name: agent_create(
            name=name, device=device, division=division, token=f"sapa_tools-{name.lower()}"
        )
        for name in ("Ani", "Budi")
    }
    QuickReply.objects.create(
        shortcut="thanks", title="Thank you", text="Thank you {name}, this is {agent}."
    )
    QuickReply.objects.create(shortcut="hours", title="Opening hours", text="We open at 9.")
    return device, agents


def agent_page(browser, stack, agent, errors: list[str]):
    context = browser.new_context(viewport={"width": 1366, "height": 860}, locale="en-US")
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
    page.evaluate("window.sapaSamePage = true")
    return page


def test_quick_reply_poll_and_transfer_between_two_agents(stack, desk, artifacts):
    device, agents = desk
    gateway = stack.gateway
    gateway.respond(accept)
    expect.set_options(timeout=30_000)  # a bound for slow machines, not a timing assertion
    errors: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = {name: agent_page(browser, stack, agent, errors) for name, agent in agents.items()}

        # A customer writes; rotation gives the chat to one of the two.
        webhook(stack, device, "incoming", fixture("incoming_private_captured"))
        owner_id = orm(lambda: Conversation.objects.get().agent_id)
        owner = next(n for n, a in agents.items() if a.agent.pk == owner_id)
        other = next(n for n in agents if n != owner)
        page, colleague = pages[owner], pages[other]
        page.locator("#conversation-list .conversation-link", has_text="Rama").click()
        expect(page.locator("#thread-pane .message-in", has_text="Halo")).to_have_count(1)

        # "/" opens the picker; typing filters by shortcut; ↓ and Enter choose; the text is
        # filled in for this customer and agent, and stays editable before it is sent.
        box = page.locator("#thread-pane textarea[data-enter-sends]")
        box.click()
        box.type("/")
        picker = page.locator("#thread-pane .picker")
        expect(picker).to_be_visible()
        expect(picker.locator(".picker-option")).to_have_count(2)
        box.type("tha")
        expect(picker.locator(".picker-option")).to_have_count(1)
        box.press("ArrowDown")
        box.press("Enter")
        expect(picker).to_be_hidden()
        expect(box).to_have_value(f"Thank you Rama, this is {owner}.")
        box.type(" :)")
        box.press("Enter")
        reply = page.locator("#thread-pane .message-out", has_text="this is")
        expect(reply).to_have_count(1)
        expect(box).to_have_value("")
        expect(reply.locator(".ticks")).to_have_attribute("data-status", "sent")
        assert gateway.requests[-1].json["message"] == f"Thank you Rama, this is {owner}. :)"

        # An ad hoc poll: question, two choices, one answer.
        page.locator("#thread-pane [data-tool=poll]").click()
        panel = page.locator("#thread-pane form[data-composer-tool=poll]")
        expect(panel).to_be_visible()
        panel.get_by_label("Question").fill(POLL_QUESTION)
        panel.get_by_label("Choice 1", exact=True).fill("Excellent")
        panel.get_by_label("Choice 2", exact=True).fill("Could be better")
        panel.get_by_role("button", name="Send poll").click()
        poll = page.locator("#thread-pane .message-out .message-poll", has_text=POLL_QUESTION)
        expect(poll).to_have_count(1)
        expect(page.locator("#thread-pane form[data-composer-tool=poll]")).to_have_count(0)
        poll_bubble = page.locator(
            "#thread-pane .message-out",
            has=page.locator(".message-poll", has_text=POLL_QUESTION),
        )
        expect(poll_bubble.locator(".ticks")).to_have_attribute("data-status", "sent")
        sent = gateway.requests[-1].json
        assert (sent["pollname"], sent["choices"], sent["select"]) == (
            POLL_QUESTION,
            "Excellent,Could be better",
            "single",
        )
        # The customer votes: the tally in the bubble moves without a reload.
        webhook(stack, device, "incoming", fixture("incoming_poll_vote"))
        excellent = poll.locator(".poll-choice", has_text="Excellent")
        expect(excellent.locator(".poll-count")).to_have_text("1")
        page.screenshot(path=str(artifacts / "workspace-tools-en.png"))

        # Transfer to the colleague with a note: the chat leaves this screen and arrives on
        # theirs, live, with the note in the thread.
        page.locator("#thread-pane .actions-transfer").click()
        dialog = page.locator("#transfer-dialog")
        expect(dialog).to_be_visible()
        dialog.locator("label.target-option", has_text=other).locator("input").check()
        dialog.get_by_label("Note for whoever gets it").fill("VIP: wants the blue one")
        page.screenshot(path=str(artifacts / "workspace-transfer-dialog-en.png"))
        dialog.get_by_role("button", name="Transfer").click()
        expect(page.locator("#thread-pane")).to_contain_text(f"Transferred to {other}")
        expect(
            page.locator("#conversation-list .conversation-item", has_text="Rama")
        ).to_have_count(0)
        row = colleague.locator("#conversation-list .conversation-item", has_text="Rama")
        expect(row).to_have_count(1)
        row.locator(".conversation-link").click()
        note = colleague.locator("#thread-pane .message-note", has_text="VIP: wants the blue one")
        expect(note).to_have_count(1)
        expect(colleague.locator("#thread-pane textarea[data-enter-sends]")).to_be_visible()
        # The note never reached the gateway: the last request is still the poll.
        assert "VIP" not in str(gateway.requests[-1].json)
        assert colleague.evaluate("window.sapaSamePage") is True
        assert page.evaluate("window.sapaSamePage") is True
        colleague.screenshot(path=str(artifacts / "workspace-transferred-en.png"))

        # The same workspace in Indonesian.
        colleague.context.add_cookies(
            [{"name": "django_language", "value": "id", "url": stack.base_url}]
        )
        colleague.reload()
        expect(colleague.locator("html")).to_have_attribute("lang", "id")
        expect(colleague.locator("#connection-status")).to_have_attribute("data-state", "open")
        expect(colleague.locator("#thread-pane .message-note")).to_contain_text("Catatan internal")
        colleague.screenshot(path=str(artifacts / "workspace-tools-id.png"))

        assert errors == []
        browser.close()
