"""What a first afternoon of real use found in the workspace (issue: "tried as agents would"),
each through the views an agent's browser calls or the socket push it receives: previews of
messages without words, the empty Mine tab, naming a new chat, "why this agent" for a chat the
agent started, group chats, stray poll votes, files the gateway did not send, and one date
format per language in the agent's time zone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from chats import live
from chats.models import Contact, Conversation, Message
from chats.services.outbound import message_location_create
from rotation.models import AssignmentLog
from tests.factories import ContactFactory, ConversationFactory
from tests.fonnte import fixture, post

pytestmark = pytest.mark.django_db

CUSTOMER = "6282100000002"


def logged_in(agent_with_token, *, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    response = client.post(
        reverse("agents:login"),
        {"device_number": "6287700000001", "token": agent_with_token.token},
    )
    assert response.status_code == 302
    return client


def inbox(client: Client, tab: str = "mine") -> str:
    return client.get(reverse("chats:inbox"), {"tab": tab}).content.decode()


def thread(client: Client, conversation: Conversation) -> str:
    return client.get(reverse("chats:conversation", args=[conversation.pk])).content.decode()


def row(html: str, conversation: Conversation) -> str:
    start = html.index(f'<li id="conversation-{conversation.pk}"')
    return html[start : html.index("</li>", start)]


def receive(device, name: str, **overrides) -> Message:
    response = post(Client(), device, "incoming", fixture(name, **overrides))
    assert response.status_code == 200, response.content
    return Message.objects.order_by("-pk").first()


@pytest.fixture
def ani(fonnte_device, sales_agents):
    # Budi is inactive, so every chat goes to Ani.
    sales_agents[1].agent.is_active = False
    sales_agents[1].agent.save(update_fields=["is_active"])
    return sales_agents[0]


# --- Previews of messages without words ---------------------------------------------------


def test_a_chat_whose_last_message_is_a_location_previews_as_a_location(fonnte_device, ani):
    message = receive(fonnte_device, "incoming_location")
    html = row(inbox(logged_in(ani)), message.conversation)
    assert "Location" in html
    assert "New message" not in html


def test_an_agents_location_reply_previews_as_a_location(fonnte_device, ani):
    conversation = receive(fonnte_device, "incoming_private_captured").conversation
    message_location_create(
        conversation=conversation, agent=ani.agent, latitude="-6,2088", longitude="106.8456"
    )
    html = row(inbox(logged_in(ani)), conversation)
    assert "Location" in html
    assert "New message" not in html


def test_a_file_without_a_name_and_a_withdrawn_vote_preview_by_kind(fonnte_device, ani):
    file = receive(
        fonnte_device,
        "incoming_attachment",
        message="",
        pesan="",
        filename="",
        url="https://files.fonnte.com/abc/x",
    )
    assert row(inbox(logged_in(ani)), file.conversation).count("File") == 1
    vote = receive(fonnte_device, "incoming_poll_vote", choices="", inboxid=99)
    html = row(inbox(logged_in(ani)), vote.conversation)
    assert "Poll vote" in html
    assert "New message" not in html


# --- The empty Mine tab --------------------------------------------------------------------


def test_the_empty_mine_tab_does_not_say_no_chats_yet(ani):
    html = inbox(logged_in(ani))
    assert "No open chats" in html
    assert "No chats yet" not in html


# --- A new chat by number, with a name ------------------------------------------------------


def test_a_new_chat_takes_a_contact_name(fonnte_device, ani):
    client = logged_in(ani)
    response = client.post(
        reverse("chats:new_chat"), {"number": "0812 3456 7890", "name": "  Bu  Sari "}
    )
    assert response.status_code == 302
    contact = Contact.objects.get(address="6281234567890")
    assert contact.name == "Bu Sari"
    conversation = contact.conversations.get()
    html = row(inbox(client), conversation)
    assert "Bu Sari" in html
    assert '<span class="conversation-avatar" aria-hidden="true">B</span>' in html


def test_a_new_chat_dialog_has_a_labelled_name_field(ani):
    html = logged_in(ani).get(reverse("chats:new_chat"), HTTP_HX_REQUEST="true").content.decode()
    assert '<label for="new-chat-name">' in html
    assert 'id="new-chat-name" type="text" name="name"' in html


def test_a_too_long_name_is_refused_and_nothing_is_created(fonnte_device, ani):
    response = logged_in(ani).post(
        reverse("chats:new_chat"),
        {"number": "081234567890", "name": "x" * 121},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "at most 120 characters" in html
    assert 'id="new-chat-name" type="text" name="name"' in html and 'aria-invalid="true"' in html
    assert not Contact.objects.filter(address="6281234567890").exists()
    assert not Conversation.objects.exists()


# --- "Why this agent" ------------------------------------------------------------------------


def test_why_this_agent_says_the_agent_started_the_chat(fonnte_device, ani):
    client = logged_in(ani)
    client.post(reverse("chats:new_chat"), {"number": "081234567890"})
    conversation = Conversation.objects.get()
    side = thread(client, conversation).split('class="thread-side"')[1]
    assert "Started by the agent" in side
    assert "Taken from the queue" not in side


def test_why_this_agent_still_says_taken_for_a_queued_chat_taken_up(fonnte_device, ani):
    contact = ContactFactory(device=fonnte_device, address="6281234567890", name="Sari")
    queued = ConversationFactory(contact=contact, division=fonnte_device.division)
    client = logged_in(ani)
    client.post(reverse("chats:new_chat"), {"number": "081234567890"})
    queued.refresh_from_db()
    assert queued.agent_id == ani.agent.pk
    side = thread(client, queued).split('class="thread-side"')[1]
    assert "Taken from the queue" in side
    assert "Started by the agent" not in side


# --- Group chats -----------------------------------------------------------------------------


def test_a_group_chat_is_not_labelled_with_its_raw_id(fonnte_device, ani):
    message = receive(fonnte_device, "incoming_group_captured")
    conversation = message.conversation
    html = row(inbox(logged_in(ani)), conversation)
    assert "WhatsApp group …5678" in html
    assert "@g.us" not in html
    viewer = live.Viewer(
        agent_id=ani.agent.pk,
        division_id=ani.agent.division_id,
        device_id=ani.agent.device_id,
        language="en",
        time_zone="Asia/Jakarta",
    )
    push = live.render_conversation(
        viewer,
        conversation_id=conversation.pk,
        message_id=message.pk,
        signal=live.SIGNAL_NEW_CHAT,
    )
    assert 'data-title="WhatsApp group …5678"' in push
    assert "@g.us" not in push


# --- A vote on a poll Sapa did not send --------------------------------------------------------


def test_a_vote_matching_no_poll_shows_as_a_vote_not_a_poll(fonnte_device, ani):
    vote = receive(fonnte_device, "incoming_poll_vote")
    assert vote.is_poll_vote and vote.poll_vote_for_id is None
    bubble = thread(logged_in(ani), vote.conversation)
    assert "Vote on “How was our service today?”:" in bubble
    assert "a poll not sent from Sapa" in bubble
    assert 'class="message-poll"' not in bubble


def test_a_poll_the_customer_sent_is_still_a_poll(fonnte_device, ani):
    poll = receive(fonnte_device, "incoming_poll")
    assert not poll.is_poll_vote
    bubble = thread(logged_in(ani), poll.conversation)
    assert 'class="message-poll"' in bubble
    assert "Jam berapa bisa dihubungi?" in bubble


# --- A file the gateway named but did not send ----------------------------------------------


def test_a_file_without_a_url_says_the_gateway_did_not_send_it(fonnte_device, ani):
    message = receive(fonnte_device, "incoming_attachment", url="")
    bubble = thread(logged_in(ani), message.conversation)
    assert "transfer.jpg" in bubble
    assert "the gateway did not send the file" in bubble
    assert "being saved" not in bubble


# --- Dates: one format per language, in the agent's time zone ------------------------------

OPENED = dt.datetime(2026, 12, 2, 11, 43, tzinfo=dt.UTC)  # 18:43 in Jakarta


def dated_chat(fonnte_device, ani) -> Conversation:
    client = logged_in(ani)
    client.post(reverse("chats:new_chat"), {"number": "081234567890", "name": "Sari"})
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(
        opened_at=OPENED, last_activity_at=OPENED
    )
    AssignmentLog.objects.filter(conversation=conversation).update(created_at=OPENED)
    Contact.objects.filter(pk=conversation.contact_id).update(created_at=OPENED)
    return conversation


@pytest.mark.parametrize(
    ("language", "datetime_text", "date_text"),
    [("en", "2 Dec 2026, 18:43", "2 Dec 2026"), ("id", "2 Des 2026, 18.43", "2 Des 2026")],
)
def test_every_date_of_the_thread_has_one_format_per_language(
    fonnte_device, ani, language, datetime_text, date_text
):
    conversation = dated_chat(fonnte_device, ani)
    html = thread(logged_in(ani, language=language), conversation)
    side = html.split('class="thread-side"')[1]
    # "Opened" and "Why this agent" read alike.
    assert side.count(datetime_text) == 2, side
    assert date_text in side  # "First seen"
    for other in ("12/02/2026", "02-12-2026", "p.m.", "Dec.", "Des.", "6:43"):
        assert other not in side


def test_the_agents_time_zone_applies(fonnte_device, ani):
    conversation = dated_chat(fonnte_device, ani)
    ani.agent.time_zone = "Asia/Jayapura"
    ani.agent.save(update_fields=["time_zone"])
    side = thread(logged_in(ani), conversation).split('class="thread-side"')[1]
    assert side.count("2 Dec 2026, 20:43") == 2


@pytest.mark.parametrize(("language", "clock"), [("en", r"\d\d:\d\d"), ("id", r"\d\d\.\d\d")])
def test_pushes_write_times_like_the_page(fonnte_device, ani, language, clock):
    message = receive(fonnte_device, "incoming_private_captured")
    viewer = live.Viewer(
        agent_id=ani.agent.pk,
        division_id=ani.agent.division_id,
        device_id=ani.agent.device_id,
        language=language,
        time_zone="Asia/Jakarta",
    )
    push = live.render_conversation(
        viewer, conversation_id=message.conversation_id, message_id=message.pk
    )
    times = re.findall(r"<time[^>]*>([^<]*)</time>", push)
    assert len(times) == 2  # the row and the bubble
    for shown in times:
        assert re.fullmatch(clock, shown), times
    page = thread(logged_in(ani, language=language), message.conversation)
    assert f">{times[1]}</time>" in page
