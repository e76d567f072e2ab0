"""The workspace's own services and views: take from the queue, resolve (which drains the
queue), reopen, reply and retry wired to the send path, inbox tabs, search and keyset pages
that cost the same number of queries at 10,000 conversations, thread history paging."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chats.models import Contact, Conversation, Message
from chats.selectors import INBOX_PAGE, THREAD_PAGE, conversation_page_for_agent
from chats.services.conversations import (
    conversation_reopen,
    conversation_resolve,
    conversation_take,
)
from rotation.models import AssignmentLog
from tests.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
OPEN = Conversation.Status.OPEN


def login(agent_with_token) -> Client:
    client = Client()
    response = client.post(
        reverse("agents:login"),
        {"device_number": agent_with_token.agent.device.number, "token": agent_with_token.token},
    )
    assert response.status_code == 302
    return client


def chat(device, address, *, name="Customer", **kwargs) -> Conversation:
    contact = ContactFactory(device=device, address=address, name=name)
    return ConversationFactory(contact=contact, **kwargs)


# --- Take ---------------------------------------------------------------------------------------


def test_take_gives_a_queued_chat_to_the_agent_and_logs_why(fonnte_device, sales_agents):
    ani = sales_agents[0].agent
    queued = chat(fonnte_device, "6282100000001")
    conversation_take(conversation=queued, agent=ani)
    queued.refresh_from_db()
    assert queued.agent_id == ani.pk and queued.status == OPEN and queued.assigned_at
    log = AssignmentLog.objects.get(conversation=queued)
    assert log.trigger == AssignmentLog.Trigger.TAKE and log.agent_id == ani.pk


def test_a_chat_can_be_taken_once(fonnte_device, sales_agents):
    ani, budi = (a.agent for a in sales_agents)
    queued = chat(fonnte_device, "6282100000001")
    conversation_take(conversation=queued, agent=ani)
    with pytest.raises(ValidationError) as error:
        conversation_take(conversation=queued, agent=budi)
    assert error.value.code == "already_taken"
    queued.refresh_from_db()
    assert queued.agent_id == ani.pk
    assert AssignmentLog.objects.filter(conversation=queued).count() == 1


def test_take_view_answers_with_the_thread_and_the_reason_when_too_late(
    fonnte_device, sales_agents
):
    queued = chat(fonnte_device, "6282100000001", name="Rama")
    conversation_take(conversation=queued, agent=sales_agents[1].agent)
    # Budi took it a moment ago; Ani's click is too late and she may no longer see it.
    response = login(sales_agents[0]).post(
        reverse("chats:conversation_take", args=[queued.pk]), headers=HX
    )
    assert response.status_code == 404
    mine = chat(fonnte_device, "6282100000002", agent=sales_agents[0].agent, status=OPEN)
    response = login(sales_agents[0]).post(
        reverse("chats:conversation_take", args=[mine.pk]), headers=HX
    )
    assert response.status_code == 409
    assert "no longer waiting in your queue" in response.content.decode()


# --- Resolve / reopen ---------------------------------------------------------------------------


def test_resolve_frees_capacity_and_drains_the_queue(
    fonnte_device, sales_agents, django_capture_on_commit_callbacks
):
    division = fonnte_device.division
    division.max_open_chats = 1
    division.save(update_fields=["max_open_chats"])
    ani, budi = (a.agent for a in sales_agents)
    mine = chat(fonnte_device, "6282100000001", agent=ani, status=OPEN, unread_count=2)
    chat(fonnte_device, "6282100000002", agent=budi, status=OPEN)
    waiting = chat(fonnte_device, "6282100000003")
    with django_capture_on_commit_callbacks(execute=True):
        conversation_resolve(conversation=mine, agent=ani)
    mine.refresh_from_db()
    waiting.refresh_from_db()
    assert mine.status == Conversation.Status.RESOLVED and mine.resolved_at
    assert mine.unread_count == 0
    assert waiting.agent_id == ani.pk and waiting.status == OPEN


def test_only_the_assigned_agent_resolves_and_only_open_chats(fonnte_device, sales_agents):
    ani, budi = (a.agent for a in sales_agents)
    mine = chat(fonnte_device, "6282100000001", agent=ani, status=OPEN)
    with pytest.raises(ValidationError) as error:
        conversation_resolve(conversation=mine, agent=budi)
    assert error.value.code == "not_assigned"
    conversation_resolve(conversation=mine, agent=ani)
    with pytest.raises(ValidationError) as error:
        conversation_resolve(conversation=mine, agent=ani)
    assert error.value.code == "not_open"


def test_reopen_brings_a_resolved_chat_back_unless_the_customer_wrote_again(
    fonnte_device, sales_agents
):
    ani = sales_agents[0].agent
    first = chat(fonnte_device, "6282100000001", agent=ani, status=OPEN)
    conversation_resolve(conversation=first, agent=ani)
    conversation_reopen(conversation=first, agent=ani)
    first.refresh_from_db()
    assert first.status == OPEN and first.resolved_at is None
    conversation_resolve(conversation=first, agent=ani)
    ConversationFactory(contact=first.contact, agent=ani, status=OPEN)
    with pytest.raises(ValidationError) as error:
        conversation_reopen(conversation=first, agent=ani)
    assert error.value.code == "newer_episode"


def test_resolve_and_reopen_buttons_through_the_views(fonnte_device, sales_agents):
    ani = sales_agents[0]
    mine = chat(fonnte_device, "6282100000001", agent=ani.agent, status=OPEN)
    client = login(ani)
    page = client.get(reverse("chats:conversation", args=[mine.pk])).content.decode()
    assert reverse("chats:conversation_resolve", args=[mine.pk]) in page
    response = client.post(reverse("chats:conversation_resolve", args=[mine.pk]), headers=HX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "sapa:list-changed"
    html = response.content.decode()
    assert reverse("chats:conversation_reopen", args=[mine.pk]) in html
    assert "data-enter-sends" not in html  # no reply box on a resolved chat
    resolved = client.get(reverse("chats:inbox"), {"tab": "resolved"}).content.decode()
    assert f'id="conversation-{mine.pk}"' in resolved
    # Without JavaScript the same buttons are plain forms: post, then back to the chat.
    response = client.post(reverse("chats:conversation_reopen", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == OPEN


# --- Reply and retry ----------------------------------------------------------------------------


def test_reply_returns_its_bubble_at_once_with_the_id_the_push_uses(
    fonnte_device, sales_agents, django_capture_on_commit_callbacks
):
    ani = sales_agents[0]
    mine = chat(fonnte_device, "6282100000001", agent=ani.agent, status=OPEN)
    client = login(ani)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("chats:conversation_send", args=[mine.pk]),
            {"text": "Halo <b>Rama</b>\nbaris dua"},
            headers=HX,
        )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "sapa:sent"
    message = Message.objects.get(direction="out")
    html = response.content.decode()
    assert f'id="message-{message.pk}"' in html
    assert f'hx-swap-oob="beforeend:#thread-{mine.pk}-messages"' in html
    assert "Halo &lt;b&gt;Rama&lt;/b&gt;<br>baris dua" in html
    assert 'data-status="queued"' in html
    assert callbacks  # the send task and the push wait for the commit


def test_a_refused_reply_says_why_and_stores_nothing(fonnte_device, sales_agents):
    ani = sales_agents[0]
    mine = chat(fonnte_device, "6282100000001", agent=ani.agent, status=OPEN)
    response = login(ani).post(
        reverse("chats:conversation_send", args=[mine.pk]), {"text": "   "}, headers=HX
    )
    assert response.status_code == 422
    assert f'id="reply-{mine.pk}-error"' in response.content.decode()
    assert "Write a message first." in response.content.decode()
    assert not Message.objects.exists()


def test_failed_and_unconfirmed_replies_show_the_reason_and_retry(fonnte_device, sales_agents):
    ani = sales_agents[0]
    mine = chat(fonnte_device, "6282100000001", agent=ani.agent, status=OPEN)
    failed = Message.objects.create(
        conversation=mine,
        device=fonnte_device,
        direction="out",
        text="one",
        sender_agent=ani.agent,
        status=Message.Status.FAILED,
        failure_reason="target invalid",
    )
    unconfirmed = Message.objects.create(
        conversation=mine,
        device=fonnte_device,
        direction="out",
        text="two",
        sender_agent=ani.agent,
        status=Message.Status.UNCONFIRMED,
        failure_reason="Sending was interrupted; the message may have been sent.",
    )
    waiting = Message.objects.create(
        conversation=mine,
        device=fonnte_device,
        direction="out",
        text="three",
        sender_agent=ani.agent,
        status=Message.Status.QUEUED,
        wait_reason="Waiting: the device is disconnected.",
    )
    client = login(ani)
    html = client.get(reverse("chats:conversation", args=[mine.pk])).content.decode()
    assert "The customer&#x27;s number was refused by the gateway." in html
    assert "May not have been sent" in html
    assert "Waiting: the device is disconnected." in html
    assert reverse("chats:message_retry", args=[failed.pk]) in html
    assert reverse("chats:message_retry", args=[unconfirmed.pk]) in html
    assert reverse("chats:message_retry", args=[waiting.pk]) not in html
    response = client.post(reverse("chats:message_retry", args=[unconfirmed.pk]), headers=HX)
    assert response.status_code == 200
    assert f'id="message-{unconfirmed.pk}-status"' in response.content.decode()
    unconfirmed.refresh_from_db()
    assert unconfirmed.status == Message.Status.QUEUED
    # A second click finds it queued: nothing is sent twice.
    response = client.post(reverse("chats:message_retry", args=[unconfirmed.pk]), headers=HX)
    assert response.status_code == 422
    assert "Only failed or unconfirmed" in response.content.decode()


def test_indonesian_workspace(fonnte_device, sales_agents):
    ani = sales_agents[0]
    mine = chat(fonnte_device, "6282100000001", agent=ani.agent, status=OPEN)
    client = login(ani)
    client.cookies["django_language"] = "id"
    html = client.get(reverse("chats:conversation", args=[mine.pk])).content.decode()
    assert '<html lang="id">' in html


# --- Inbox: tabs, search, pages -----------------------------------------------------------------


def test_search_by_name_number_and_text_within_the_tab(fonnte_device, sales_agents):
    ani, budi = (a.agent for a in sales_agents)
    rama = chat(fonnte_device, "6281234567890", name="Rama Putra", agent=ani, status=OPEN)
    sari = chat(fonnte_device, "6289876543210", name="Sari", agent=ani, status=OPEN)
    hidden = chat(fonnte_device, "6281111111111", name="Rama Lain", agent=budi, status=OPEN)
    Message.objects.create(
        conversation=sari, device=fonnte_device, direction="in", text="ongkir ke Bandung?"
    )
    Message.objects.create(
        conversation=hidden, device=fonnte_device, direction="in", text="ongkir ke Bandung?"
    )

    def found(query):
        page = conversation_page_for_agent(agent=ani, tab="mine", query=query)
        return {c.pk for c in page.conversations}

    assert found("rama") == {rama.pk}
    assert found("0812-3456") == {rama.pk}  # as people type it
    assert found("+62 812 3456 7890") == {rama.pk}
    assert found("bandung") == {sari.pk}
    assert found("nothing like this") == set()
    html = login(sales_agents[0]).get(reverse("chats:inbox"), {"q": "bandung"}).content.decode()
    assert f'id="conversation-{sari.pk}"' in html and f'id="conversation-{rama.pk}"' not in html
    # As the agent types, htmx asks for the list alone (the search box keeps its focus).
    response = login(sales_agents[0]).get(
        reverse("chats:inbox"),
        {"q": "rama", "tab": "mine"},
        headers={**HX, "HX-Target": "conversation-list"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith("{#") is False
    assert '<ul id="conversation-list"' in html and 'id="inbox-search"' not in html
    assert f'id="conversation-{rama.pk}"' in html and f'id="conversation-{sari.pk}"' not in html
    assert 'data-query="rama"' in html


@pytest.fixture
def ten_thousand(fonnte_device, sales_agents):
    """10,000 conversations: most are Ani's open chats, the rest queued or a colleague's."""
    ani, budi = (a.agent for a in sales_agents)
    contacts = Contact.objects.bulk_create(
        Contact(device=fonnte_device, address=f"6285{n:09d}", name=f"Customer {n}")
        for n in range(10_000)
    )
    now = timezone.now()
    rows = []
    for n, contact in enumerate(contacts):
        agent, status = (ani, OPEN)
        if n % 10 == 1:
            agent, status = (None, Conversation.Status.QUEUED)
        elif n % 10 == 2:
            agent, status = (budi, OPEN)
        rows.append(
            Conversation(
                contact=contact,
                device=fonnte_device,
                division=fonnte_device.division,
                agent=agent,
                status=status,
                last_message_preview=f"message {n}",
                unread_count=n % 3,
            )
        )
    conversations = Conversation.objects.bulk_create(rows)
    # Distinct, and some equal, activity times: the keyset must not skip or repeat ties.
    for n, conversation in enumerate(conversations):
        conversation.last_activity_at = now - timedelta(minutes=n // 2)
    Conversation.objects.bulk_update(conversations, ["last_activity_at"], batch_size=1000)
    return conversations


def test_inbox_pages_cost_the_same_queries_at_ten_thousand_chats(
    ten_thousand, sales_agents, django_assert_max_num_queries
):
    ani = sales_agents[0]
    client = login(ani)
    with django_assert_max_num_queries(12):
        first = client.get(reverse("chats:inbox"))
    assert first.status_code == 200
    seen: list[int] = []
    cursor = ""
    for _ in range(4):
        with django_assert_max_num_queries(6):
            page = conversation_page_for_agent(agent=ani.agent, tab="mine", cursor=cursor)
        seen += [c.pk for c in page.conversations]
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 4 * INBOX_PAGE
    expected = list(
        Conversation.objects.filter(agent=ani.agent, status=OPEN)
        .order_by("-last_activity_at", "-id")
        .values_list("pk", flat=True)[: 4 * INBOX_PAGE]
    )
    assert seen == expected
    # The same page through the view (infinite scroll), deep in the list.
    with django_assert_max_num_queries(8):
        response = client.get(
            reverse("chats:conversation_list"), {"tab": "mine", "cursor": cursor}, headers=HX
        )
    assert response.status_code == 200
    assert response.content.decode().count('class="conversation-item') == INBOX_PAGE
    # The whole page: also the rows' labels and the label filter's choices, one query each.
    with django_assert_max_num_queries(10):
        search = client.get(reverse("chats:inbox"), {"q": "Customer 99"})
    assert search.status_code == 200


def test_thread_pages_back_through_the_contacts_earlier_episodes(fonnte_device, sales_agents):
    ani = sales_agents[0]
    contact = ContactFactory(device=fonnte_device, address="6282100000001", name="Rama")
    earlier = ConversationFactory(
        contact=contact, agent=ani.agent, status=Conversation.Status.RESOLVED
    )
    current = ConversationFactory(contact=contact, agent=ani.agent, status=OPEN)
    Conversation.objects.filter(pk=earlier.pk).update(opened_at=timezone.now() - timedelta(days=3))
    old = Message.objects.bulk_create(
        Message(conversation=earlier, device=fonnte_device, direction="in", text=f"old {n}")
        for n in range(THREAD_PAGE)
    )
    Message.objects.filter(pk__in=[m.pk for m in old]).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    new = Message.objects.bulk_create(
        Message(conversation=current, device=fonnte_device, direction="in", text=f"new {n}")
        for n in range(10)
    )
    client = login(ani)
    html = client.get(reverse("chats:conversation", args=[current.pk])).content.decode()
    assert "new 9" in html and "old 49" in html and "old 0" not in html
    assert "is-earlier" in html and "day-separator" in html
    assert f'id="thread-{current.pk}-older"' in html
    first_shown = Message.objects.get(text="old 10")
    response = client.get(
        reverse("chats:conversation_older", args=[current.pk]),
        {"before": first_shown.pk},
        headers=HX,
    )
    older = response.content.decode()
    assert "old 0" in older and "old 9" in older and "old 10" not in older
    assert f'id="thread-{current.pk}-older"' not in older  # nothing further back
    assert len(new) == 10


def test_replies_waiting_for_a_disconnected_device_leave_when_it_reconnects(
    fonnte_device, sales_agents, django_capture_on_commit_callbacks
):
    from chats.services.connection import device_connection_apply
    from devices_app.gateways.events import ConnectionChange
    from tests.workers import broker_tasks

    ani = sales_agents[0].agent
    mine = chat(fonnte_device, "6282100000001", agent=ani, status=OPEN)
    device_connection_apply(device=fonnte_device, event=ConnectionChange(connected=False))
    waiting = Message.objects.create(
        conversation=mine,
        device=fonnte_device,
        direction="out",
        text="held",
        sender_agent=ani,
        status=Message.Status.QUEUED,
        wait_reason="Waiting: the device is disconnected.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        device_connection_apply(device=fonnte_device, event=ConnectionChange(connected=True))
    sends = [t for t in broker_tasks() if t.name == "chats.send_message"]
    assert [t.args for t in sends] == [[waiting.pk]]
