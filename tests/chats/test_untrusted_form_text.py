"""Form and query text with a NUL character (PostgreSQL stores none and refuses one in a query)
reaches the agent's search, the quick-reply picker, a reply, a note and a new chat cleaned,
never as a 500 (docs/SECURITY.md "Untrusted text"). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from chats.models import Conversation, Message
from tests.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def ani(sales_agents):
    return sales_agents[0]


@pytest.fixture
def agent_client(ani) -> Client:
    client = Client(raise_request_exception=False)
    response = client.post(
        reverse("agents:login"),
        {"device_number": ani.agent.device.number, "token": ani.token},
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def mine(fonnte_device, ani) -> Conversation:
    contact = ContactFactory(device=fonnte_device, address="6282100000001", name="Rama")
    return ConversationFactory(contact=contact, agent=ani.agent, status=Conversation.Status.OPEN)


@pytest.mark.parametrize(
    "url_name", ["chats:inbox", "chats:conversation_list"], ids=["inbox", "list"]
)
def test_search_with_nul_answers_and_finds_the_cleaned_words(agent_client, mine, url_name):
    response = agent_client.get(reverse(url_name), {"q": "Ra\x00ma"}, headers=HX)
    assert response.status_code == 200
    assert b"Rama" in response.content


def test_quick_reply_search_with_nul_answers(agent_client, mine):
    url = reverse("chats:quick_reply_picker", args=[mine.pk])
    response = agent_client.get(url, {"q": "/hal\x00o"}, headers=HX)
    assert response.status_code == 200


@pytest.mark.parametrize("mode", ["reply", "note"])
def test_reply_and_note_with_nul_are_stored_cleaned(agent_client, mine, mode):
    url = reverse("chats:conversation_send", args=[mine.pk])
    response = agent_client.post(url, {"text": "Ha\x00lo", "mode": mode}, headers=HX)
    assert response.status_code == 200
    assert Message.objects.get(conversation=mine).text == "Halo"


def test_new_chat_with_nul_opens_the_chat_with_the_cleaned_text(agent_client, ani):
    response = agent_client.post(
        reverse("chats:new_chat"),
        {"number": "082100000009", "text": "Sel\x00amat pagi"},
        headers=HX,
    )
    assert response.status_code == 200
    message = Message.objects.get()
    assert message.text == "Selamat pagi"
    assert message.conversation.contact.address == "6282100000009"


def test_login_with_nul_is_refused_with_the_form_not_a_500(fonnte_device):
    client = Client(raise_request_exception=False)
    response = client.post(
        reverse("agents:login"), {"device_number": "0877\x00", "token": "x\x00y"}
    )
    assert response.status_code in (200, 400, 403)
