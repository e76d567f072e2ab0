"""docs/ARCHITECTURE.md "Who sees what" over every workspace URL: an agent sees the chats assigned
to them
and their division's queue, nothing else (404, never 403, so ids leak nothing); anonymous
visitors go to the login page; every post needs the CSRF token."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from agents.services import agent_create
from chats.models import Conversation, Message
from config.asgi import application
from tests.factories import ContactFactory, ConversationFactory, DeviceFactory, DivisionFactory

ORIGIN = (b"origin", b"http://localhost")


def login(agent_with_token) -> Client:
    client = Client()
    number = agent_with_token.agent.device.number
    response = client.post(
        reverse("agents:login"), {"device_number": number, "token": agent_with_token.token}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def people(fonnte_device, sales_agents):
    """Ani (assigned), Budi (same division), Citra (another division)."""
    division = DivisionFactory(name="Support", online_only=False)
    device = DeviceFactory(number="6287700000009", division=division)
    citra = agent_create(
        name="Citra", device=device, division=division, token="sapa_test-token-citra"
    )
    return {"ani": sales_agents[0], "budi": sales_agents[1], "citra": citra}


@pytest.fixture
def ani_chat(fonnte_device, people):
    contact = ContactFactory(device=fonnte_device, address="6282100000001", name="Rama")
    conversation = ConversationFactory(
        contact=contact, agent=people["ani"].agent, status=Conversation.Status.OPEN
    )
    Message.objects.create(
        conversation=conversation, device=fonnte_device, direction="in", text="secret order 42"
    )
    failed = Message.objects.create(
        conversation=conversation,
        device=fonnte_device,
        direction="out",
        text="reply",
        sender_agent=people["ani"].agent,
        status=Message.Status.FAILED,
        failure_reason="target invalid",
    )
    return conversation, failed


def urls(conversation: Conversation, message: Message) -> list[tuple[str, str, dict]]:
    """Every workspace URL that names a conversation or a message: (method, url, data)."""
    c, m = conversation.pk, message.pk
    return [
        ("get", reverse("chats:conversation", args=[c]), {}),
        ("get", reverse("chats:conversation_older", args=[c]), {"before": m}),
        ("post", reverse("chats:conversation_read", args=[c]), {}),
        ("post", reverse("chats:conversation_send", args=[c]), {"text": "hello"}),
        ("post", reverse("chats:conversation_take", args=[c]), {}),
        ("post", reverse("chats:conversation_resolve", args=[c]), {}),
        ("post", reverse("chats:conversation_reopen", args=[c]), {}),
        ("post", reverse("chats:message_retry", args=[m]), {}),
        ("get", reverse("chats:attachment", args=[m]), {}),
    ]


HX = {"HX-Request": "true"}


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_login_everywhere(ani_chat):
    conversation, message = ani_chat
    client = Client()
    for method, url, data in [
        ("get", reverse("chats:inbox"), {}),
        ("get", reverse("chats:conversation_list"), {}),
        *urls(conversation, message),
    ]:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("agents:login")), url
    assert Message.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["budi", "citra"])
def test_agents_who_may_not_see_a_chat_get_404_everywhere_and_change_nothing(ani_chat, people, who):
    conversation, message = ani_chat
    client = login(people[who])
    for method, url, data in urls(conversation, message):
        assert getattr(client, method)(url, data, headers=HX).status_code == 404, url
    conversation.refresh_from_db()
    message.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.agent_id == people["ani"].agent.pk
    assert message.status == Message.Status.FAILED
    assert Message.objects.count() == 2
    for tab in ("mine", "queue", "resolved"):
        html = client.get(reverse("chats:inbox"), {"tab": tab, "q": "secret"}).content.decode()
        assert "Rama" not in html and "secret order" not in html


@pytest.mark.django_db
def test_the_assigned_agent_reaches_every_url(ani_chat, people, settings):
    conversation, message = ani_chat
    client = login(people["ani"])
    answers = {}
    for method, url, data in urls(conversation, message):
        answers[url] = getattr(client, method)(url, data, headers=HX).status_code
    c, m = conversation.pk, message.pk
    assert answers[reverse("chats:conversation", args=[c])] == 200
    assert answers[reverse("chats:conversation_older", args=[c])] == 200
    assert answers[reverse("chats:conversation_read", args=[c])] == 204
    assert answers[reverse("chats:conversation_send", args=[c])] == 200
    # Not queued: nothing to take (the pane comes back with the reason).
    assert answers[reverse("chats:conversation_take", args=[c])] == 409
    assert answers[reverse("chats:conversation_resolve", args=[c])] == 200
    assert answers[reverse("chats:conversation_reopen", args=[c])] == 200
    assert answers[reverse("chats:message_retry", args=[m])] == 200
    # No stored file: the attachment view answers 404 for the file, not for the permission.
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert Message.objects.filter(direction="out", text="hello").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["ani", "budi"])
def test_a_queued_chat_is_open_to_the_whole_division_only(fonnte_device, people, who):
    contact = ContactFactory(device=fonnte_device, address="6282100000002", name="Waiting")
    queued = ConversationFactory(contact=contact)
    message = Message.objects.create(
        conversation=queued, device=fonnte_device, direction="in", text="anyone?"
    )
    outsider = login(people["citra"])
    for method, url, data in urls(queued, message):
        assert getattr(outsider, method)(url, data, headers=HX).status_code == 404, url
    client = login(people[who])
    assert client.get(reverse("chats:conversation", args=[queued.pk])).status_code == 200
    # A colleague glancing at the queue cannot reply before taking it.
    response = client.post(
        reverse("chats:conversation_send", args=[queued.pk]), {"text": "hi"}, headers=HX
    )
    assert response.status_code == 422
    assert "not assigned to you" in response.content.decode()
    response = client.post(reverse("chats:conversation_take", args=[queued.pk]), headers=HX)
    assert response.status_code == 200
    queued.refresh_from_db()
    assert queued.agent_id == people[who].agent.pk and queued.status == "open"


@pytest.mark.django_db
def test_every_workspace_post_needs_the_csrf_token(ani_chat, people):
    conversation, message = ani_chat
    client = Client(enforce_csrf_checks=True)
    number = people["ani"].agent.device.number
    login_page = client.get(reverse("agents:login"))
    token = login_page.cookies["csrftoken"].value
    client.post(
        reverse("agents:login"),
        {"device_number": number, "token": people["ani"].token, "csrfmiddlewaretoken": token},
    )
    for method, url, data in urls(conversation, message):
        if method == "post":
            assert client.post(url, data, headers=HX).status_code == 403, url
    assert Message.objects.count() == 2
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN
    # The page hands htmx the token on <body>: with it, the same post goes through.
    page = client.get(reverse("chats:conversation", args=[conversation.pk])).content.decode()
    headers = json.loads(page.split("hx-headers='", 1)[1].split("'", 1)[0])
    response = client.post(
        reverse("chats:conversation_send", args=[conversation.pk]),
        {"text": "with token"},
        headers={**HX, **headers},
    )
    assert response.status_code == 200


@pytest.mark.django_db
def test_customer_text_is_escaped_in_the_thread_and_side_panel(ani_chat, people, fonnte_device):
    conversation, _ = ani_chat
    conversation.contact.name = '<img src=x onerror="alert(1)">'
    conversation.contact.save()
    Message.objects.create(
        conversation=conversation,
        device=fonnte_device,
        direction="in",
        text="<script>alert(2)</script>",
    )
    html = login(people["ani"]).get(reverse("chats:conversation", args=[conversation.pk]))
    html = html.content.decode()
    assert "<script>alert(2)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


# --- Over the socket ---------------------------------------------------------------------------


async def _socket(agent_with_token) -> WebsocketCommunicator:
    client = await sync_to_async(login)(agent_with_token)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    socket = WebsocketCommunicator(application, "/ws/agent/", headers=[ORIGIN, (b"cookie", cookie)])
    connected, _ = await socket.connect()
    assert connected
    return socket


@pytest.mark.django_db(transaction=True)
async def test_socket_pushes_of_a_reply_reach_only_the_assigned_agent(ani_chat, people):
    conversation, _ = ani_chat
    sockets = {who: await _socket(people[who]) for who in ("ani", "budi", "citra")}

    def reply():
        client = login(people["ani"])
        return client.post(
            reverse("chats:conversation_send", args=[conversation.pk]),
            {"text": "only for Rama"},
            headers=HX,
        )

    response = await sync_to_async(reply)()
    assert response.status_code == 200
    frame = await sockets["ani"].receive_from(timeout=5)
    assert "only for Rama" in frame
    for who in ("budi", "citra"):
        assert await sockets[who].receive_nothing(timeout=0.5)
    for socket in sockets.values():
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_taken_chat_leaves_colleagues_screens_without_its_text(fonnte_device, people):
    def queued():
        # Everyone at capacity, so the drain each socket runs on connect leaves it queued; a
        # person taking it is their own choice and not bound by the limit.
        division = fonnte_device.division
        division.max_open_chats = 0
        division.save(update_fields=["max_open_chats"])
        contact = ContactFactory(device=fonnte_device, address="6282100000005", name="Sari")
        conversation = ConversationFactory(contact=contact)
        Message.objects.create(
            conversation=conversation, device=fonnte_device, direction="in", text="private words"
        )
        return conversation

    conversation = await sync_to_async(queued)()
    budi = await _socket(people["budi"])
    ani = await _socket(people["ani"])
    citra = await _socket(people["citra"])

    def take():
        return login(people["ani"]).post(
            reverse("chats:conversation_take", args=[conversation.pk]), headers=HX
        )

    assert (await sync_to_async(take)()).status_code == 200
    frame = await budi.receive_from(timeout=5)
    assert f"delete:#conversation-{conversation.pk}" in frame
    assert "private words" not in frame and "Sari" not in frame
    assert 'id="inbox-tab-queue-count"' in frame  # the Queue tab's count follows live
    assert "Sari" in await ani.receive_from(timeout=5)
    assert await citra.receive_nothing(timeout=0.5)
    for socket in (ani, budi, citra):
        await socket.disconnect()
