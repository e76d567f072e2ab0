"""Inbox search looks through every conversation the agent may see (their open and resolved
chats, their division's queue, and the earlier episodes shown in those threads), says each
hit's tab, and never finds what the agent may not read. Runs on SQLite (a substring test per
word) and on PostgreSQL (its full-text search)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from chats.models import Conversation, Message
from chats.selectors import conversation_page_for_agent
from tests.chats.test_workspace_actions import HX, chat, login
from tests.factories import ContactFactory, ConversationFactory, DeviceFactory, DivisionFactory

pytestmark = pytest.mark.django_db

OPEN, QUEUED, RESOLVED = (
    Conversation.Status.OPEN,
    Conversation.Status.QUEUED,
    Conversation.Status.RESOLVED,
)


def say(conversation: Conversation, text: str, **kwargs) -> Message:
    return Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.IN,
        text=text,
        **kwargs,
    )


def found(agent, query: str, tab: str = "mine") -> set[int]:
    page = conversation_page_for_agent(agent=agent, tab=tab, query=query)
    return {c.pk for c in page.conversations}


@pytest.fixture
def desk(fonnte_device, sales_agents):
    ani, budi = (a.agent for a in sales_agents)
    support = DivisionFactory(name="Support")
    support_device = DeviceFactory(number="6287700000009", division=support)
    rows = {
        "open": chat(fonnte_device, "6281200000001", name="Rama", agent=ani, status=OPEN),
        "resolved": chat(fonnte_device, "6281200000002", name="Sari", agent=ani, status=RESOLVED),
        "queued": chat(fonnte_device, "6281200000003", name="Tono", status=QUEUED),
        "budis": chat(fonnte_device, "6281200000004", name="Umar", agent=budi, status=OPEN),
        "other_queue": chat(support_device, "6281200000005", name="Vina", status=QUEUED),
    }
    for row in rows.values():
        say(row, "ongkir ke Bandung berapa?")
    return ani, budi, rows


def test_a_search_looks_through_every_tab_the_agent_may_see(desk):
    ani, _budi, rows = desk
    expected = {rows["open"].pk, rows["resolved"].pk, rows["queued"].pk}
    for tab in ("mine", "queue", "resolved"):
        assert found(ani, "bandung", tab) == expected
    # Names too, whatever the tab shown.
    assert found(ani, "sari", "queue") == {rows["resolved"].pk}


def test_words_match_in_any_order_and_as_the_start_of_a_word(desk):
    ani, _budi, rows = desk
    mine = {rows["open"].pk, rows["resolved"].pk, rows["queued"].pk}
    assert found(ani, "bandung ongkir") == mine
    assert found(ani, "Band") == mine
    assert found(ani, "bandung jakarta") == set()


def test_text_of_an_earlier_episode_finds_the_chat_that_shows_it(fonnte_device, sales_agents):
    ani, budi = (a.agent for a in sales_agents)
    contact = ContactFactory(device=fonnte_device, address="6281300000001", name="Wati")
    earlier = ConversationFactory(contact=contact, agent=budi, status=RESOLVED)
    Conversation.objects.filter(pk=earlier.pk).update(opened_at=timezone.now() - timedelta(days=9))
    say(earlier, "nomor resi JX123")
    current = ConversationFactory(contact=contact, agent=ani, status=OPEN)
    say(current, "sudah sampai belum?")
    # Ani reads Budi's earlier episode above her chat: the search finds her chat by it.
    assert found(ani, "resi") == {current.pk}
    # Budi finds his own resolved episode, and not Ani's later one.
    assert found(budi, "resi") == {earlier.pk}
    # Nothing said only in the later episode makes Budi's earlier one a hit.
    assert found(budi, "sampai") == set()


def test_what_the_agent_may_not_read_is_never_found(desk):
    ani, budi, rows = desk
    say(rows["budis"], "rahasia pelanggan Budi")
    say(rows["other_queue"], "rahasia divisi lain")
    assert found(ani, "rahasia") == set()
    assert found(ani, "umar") == set()
    assert found(budi, "rahasia") == {rows["budis"].pk}


def test_each_hit_shows_its_tab_in_the_list(desk, sales_agents, settings):
    _ani, _budi, rows = desk
    client = login(sales_agents[0])
    html = client.get(
        reverse("chats:inbox"),
        {"q": "bandung", "tab": "mine"},
        headers={**HX, "HX-Target": "conversation-list"},
    ).content.decode()
    assert 'data-query="bandung"' in html

    def row(key: str) -> str:
        return html.split(f'id="conversation-{rows[key].pk}"')[1].split("</li>")[0]

    assert 'class="tag tag-tab">Resolved<' in row("resolved")
    assert 'class="tag tag-tab">Mine<' in row("open")
    assert 'class="tag tag-queue">Queue<' in row("queued")
    client.cookies["django_language"] = "id"
    html = client.get(reverse("chats:inbox"), {"q": "bandung"}).content.decode()
    assert 'class="tag tag-tab">Selesai<' in row("resolved")
    nothing = client.get(reverse("chats:inbox"), {"q": "zzzz"}).content.decode()
    assert "Tidak ada obrolan Anda yang cocok dengan “zzzz”." in nothing


@pytest.mark.parametrize("query", ["'", "a & b | !c", "x:* <->", "\\", "()", "%_", "😀 ongkir"])
def test_operators_and_quotes_typed_in_the_box_are_just_text(desk, query):
    ani, _budi, rows = desk
    hits = found(ani, query)
    if query == "😀 ongkir":
        assert hits == {rows["open"].pk, rows["resolved"].pk, rows["queued"].pk}
    else:
        assert rows["budis"].pk not in hits


def test_the_database_full_text_search_is_used_where_there_is_one(desk):
    ani, _budi, _rows = desk
    with CaptureQueriesContext(connection) as queries:
        found(ani, "bandung")
    sql = " ".join(q["sql"] for q in queries).lower()
    if connection.vendor == "postgresql":
        assert "to_tsvector('simple'" in sql and "@@" in sql
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'msg_text_search'")
            assert cursor.fetchone() is not None, "migration 0006's index exists"
    else:
        assert "like" in sql
