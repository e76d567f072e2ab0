"""Reads for chats. Each selector carries its permission scope in its name (docs/ARCHITECTURE.md
"Who sees what"): an agent sees the conversations assigned to them and their division's queue."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from agents.models import Agent
from agents.presence import PresenceUnavailable, presence_states
from devices_app.models import Device
from devices_app.phone import InvalidNumber, normalize_number
from divisions.models import Division
from rotation.selectors import assignment_log_explain, assignment_logs_for_conversation

from .models import Conversation, Label, Message

# One page of the inbox list and of a thread's history; more load as the agent scrolls.
INBOX_PAGE = 50
THREAD_PAGE = 50

TABS = ("mine", "queue", "resolved")
TAB_LABELS = {"mine": _("Mine"), "queue": _("Queue"), "resolved": _("Resolved")}

# PostgreSQL text-search configuration for message text (and its index, migration 0006).
SEARCH_CONFIG = "simple"


def tab_of(conversation: Conversation) -> str:
    """The inbox tab a conversation the agent may see belongs to (a search hit says it)."""
    return {
        Conversation.Status.QUEUED: "queue",
        Conversation.Status.RESOLVED: "resolved",
    }.get(conversation.status, "mine")


def _queued_in_division(division_id: int) -> Q:
    return Q(agent__isnull=True, status=Conversation.Status.QUEUED, division_id=division_id)


def _visible_to_agent(*, agent_id: int, division_id: int) -> Q:
    """Assigned to the agent (any status, so a resolved chat stays readable by its agent),
    or waiting in the division's queue."""
    return Q(agent_id=agent_id) | _queued_in_division(division_id)


def conversation_get_for_agent(
    *, agent_id: int, division_id: int, conversation_id: int
) -> Conversation | None:
    """The conversation if this agent may see it now (assigned to them, or queued in their
    division), else None. Also used by the socket consumer to re-check before every push."""
    return (
        Conversation.objects.filter(
            _visible_to_agent(agent_id=agent_id, division_id=division_id), pk=conversation_id
        )
        .select_related("contact", "device", "agent", "division")
        .first()
    )


def conversation_get_audience(*, conversation_id: int) -> Conversation | None:
    """Who a conversation's pushes go to (its agent and division ids only, nothing to show).
    For telling its audience that someone left it, who may no longer see it themselves."""
    return (
        Conversation.objects.only("pk", "agent_id", "division_id")
        .filter(pk=conversation_id)
        .first()
    )


def message_get_for_agent(*, agent_id: int, division_id: int, message_id: int) -> Message | None:
    conversation_ids = Conversation.objects.filter(
        _visible_to_agent(agent_id=agent_id, division_id=division_id)
    ).values("pk")
    return (
        Message.objects.filter(pk=message_id, conversation_id__in=conversation_ids)
        .select_related(
            "conversation",
            "sender_agent",
            "poll_vote_for",
            "quoted__sender_agent",
            "quoted__conversation__contact",
        )
        .first()
    )


def message_get_readable_by_agent(
    *, agent_id: int, division_id: int, message_id: int
) -> Message | None:
    """A message the agent can read on screen: one of a conversation they may see, or of an
    earlier conversation with the same contact, which the thread shows above the current one
    (`message_page_for_conversation`). For reading only (attachments): acting on a message
    (Retry) keeps to `message_get_for_agent`."""
    visible = Conversation.objects.filter(
        _visible_to_agent(agent_id=agent_id, division_id=division_id)
    )
    return (
        Message.objects.filter(pk=message_id)
        .filter(
            Q(conversation_id__in=visible.values("pk"))
            | Q(
                conversation__contact_id__in=visible.values("contact_id"),
                conversation__opened_at__lte=Subquery(
                    visible.filter(contact_id=OuterRef("conversation__contact_id"))
                    .order_by("-opened_at")
                    .values("opened_at")[:1]
                ),
            )
        )
        .select_related("conversation")
        .first()
    )


# --- The workspace inbox: tabs, search, keyset pages -------------------------------------------


@dataclass(frozen=True)
class InboxPage:
    conversations: list[Conversation]
    # Opaque cursor for the next (older) page, or "" at the end.
    next_cursor: str


def _tab_scope(*, agent_id: int, division_id: int, tab: str) -> Q:
    if tab == "queue":
        return _queued_in_division(division_id)
    if tab == "resolved":
        return Q(agent_id=agent_id, status=Conversation.Status.RESOLVED)
    return Q(agent_id=agent_id, status=Conversation.Status.OPEN)


def _contact_matches(query: str) -> Q:
    """Name or number (as typed: 0812…, +62 812…, 62812…)."""
    match = Q(contact__name__icontains=query) | Q(contact__address__icontains=query)
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 4:
        match |= Q(contact__address__contains=digits)
        with contextlib.suppress(InvalidNumber):
            match |= Q(contact__address__contains=normalize_number(query))
        if digits.startswith("0"):
            match |= Q(contact__address__contains=digits[1:])
    return match


def _search_words(query: str) -> list[str]:
    return re.findall(r"\w+", query)[:10]


def _messages_matching(query: str) -> QuerySet[Message]:
    """Messages whose text has every word of the query (in any order).

    On PostgreSQL, its full-text search: each word as a prefix ("band" finds "Bandung"), with
    the `simple` configuration (no stemming: the desk writes Indonesian and English, and
    PostgreSQL has no Indonesian dictionary), served by the GIN index of migration 0006. On
    SQLite, a plain case-insensitive substring test per word."""
    words = _search_words(query)
    if not words:
        return Message.objects.none()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        # Words are \w+ only, so the raw tsquery holds no operator a customer typed.
        raw = " & ".join(f"'{word.lower()}':*" for word in words)
        return Message.objects.annotate(search=SearchVector("text", config=SEARCH_CONFIG)).filter(
            search=SearchQuery(raw, config=SEARCH_CONFIG, search_type="raw")
        )
    messages = Message.objects.all()
    for word in words:
        messages = messages.filter(text__icontains=word)
    return messages


def _search(query: str) -> Q:
    """A conversation matches by its contact's name or number, or by the text of a message in
    its thread as the agent reads it: this episode or an earlier one of the same contact
    (`message_page_for_conversation`)."""
    in_thread = _messages_matching(query).filter(
        conversation__contact_id=OuterRef("contact_id"),
        conversation__opened_at__lte=OuterRef("opened_at"),
    )
    return _contact_matches(query) | Q(Exists(in_thread))


def _cursor_encode(conversation: Conversation) -> str:
    stamp = int(conversation.last_activity_at.timestamp() * 1_000_000)
    return f"{stamp}.{conversation.pk}"


def _cursor_decode(cursor: str) -> tuple[datetime, int] | None:
    try:
        stamp, pk = (int(part) for part in cursor.split(".", 1))
        when = datetime.fromtimestamp(stamp / 1_000_000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return when, pk


def conversation_page_for_agent(
    *,
    agent: Agent,
    tab: str = "mine",
    query: str = "",
    cursor: str = "",
    label: Label | int | None = None,
) -> InboxPage:
    """One page of an inbox tab, newest activity first, for this agent only.

    Tabs: `mine` (the agent's open chats), `queue` (their division's queued chats),
    `resolved` (chats they resolved); a `query` searches all three at once (names, numbers,
    the text of each thread with its earlier episodes); `label` narrows to chats carrying it. Keyset
    pagination on (last_activity_at, id), which the (agent, status, -last_activity_at) and
    (division, status, -last_activity_at) indexes serve, so the tenth page costs what the first
    does. A fixed number of queries per page: each row carries its labels in `inbox_labels`
    (one query for the whole page).
    """
    query = (query or "").strip()[:100]
    if query:
        # A search looks through every conversation the agent may see, whatever the tab;
        # each hit shows its tab (`tab_of`).
        filters = _visible_to_agent(agent_id=agent.pk, division_id=agent.division_id)
        filters &= _search(query)
    else:
        filters = _tab_scope(
            agent_id=agent.pk, division_id=agent.division_id, tab=tab if tab in TABS else "mine"
        )
    after = _cursor_decode(cursor) if cursor else None
    if after is not None:
        when, pk = after
        filters &= Q(last_activity_at__lt=when) | Q(last_activity_at=when, pk__lt=pk)
    rows = list(
        conversations_filter_by_label(Conversation.objects.filter(filters), label)
        .select_related("contact", "device", "agent")
        .order_by("-last_activity_at", "-id")[: INBOX_PAGE + 1]
    )
    more = len(rows) > INBOX_PAGE
    rows = rows[:INBOX_PAGE]
    labels = labels_for_conversations(conversation_ids=[row.pk for row in rows]) if rows else {}
    for row in rows:
        row.inbox_labels = labels.get(row.pk, [])
    return InboxPage(conversations=rows, next_cursor=_cursor_encode(rows[-1]) if more else "")


def conversation_tab_counts_for_agent(*, agent_id: int, division_id: int) -> dict[str, int]:
    """How many chats are in Mine and in the Queue (two indexed counts)."""
    return {
        tab: Conversation.objects.filter(
            _tab_scope(agent_id=agent_id, division_id=division_id, tab=tab)
        ).count()
        for tab in ("mine", "queue")
    }


# --- A thread's history: the contact's episodes, older pages on scroll ------------------------


@dataclass(frozen=True)
class ThreadPage:
    messages: list[Message]  # oldest first
    has_older: bool


def message_page_for_conversation(
    *, conversation: Conversation, before: Message | None = None
) -> ThreadPage:
    """The newest messages of this contact up to this episode (earlier episodes included, so
    the agent sees the history above the current chat), oldest first; `before` pages back.
    The caller has checked that the viewer may see `conversation`."""
    messages = Message.objects.filter(
        conversation__contact_id=conversation.contact_id,
        conversation__opened_at__lte=conversation.opened_at,
    )
    if before is not None:
        messages = messages.filter(
            Q(created_at__lt=before.created_at) | Q(created_at=before.created_at, pk__lt=before.pk)
        )
    rows = list(
        # The quoted message and its author come along: a bubble shows what it quotes.
        messages.select_related(
            "sender_agent",
            "poll_vote_for",
            "conversation",
            "quoted__sender_agent",
            "quoted__conversation__contact",
        ).order_by("-created_at", "-id")[: THREAD_PAGE + 1]
    )
    has_older = len(rows) > THREAD_PAGE
    rows = rows[:THREAD_PAGE]
    rows.reverse()
    return ThreadPage(messages=rows, has_older=has_older)


def message_get_in_thread(*, conversation: Conversation, message_id: int) -> Message | None:
    """A message of this contact's history as shown in `conversation`'s thread (paging anchor)."""
    return (
        Message.objects.filter(
            pk=message_id,
            conversation__contact_id=conversation.contact_id,
            conversation__opened_at__lte=conversation.opened_at,
        )
        # A quoted message's bubble names its author and its contact.
        .select_related("conversation__contact", "sender_agent")
        .first()
    )


def assignment_history_for_conversation(*, conversation: Conversation) -> list:
    """Every assignment decision about the chat, oldest first, explained in words."""
    logs = list(assignment_logs_for_conversation(conversation=conversation)[:20])
    logs.reverse()
    return [(log, assignment_log_explain(log=log)) for log in logs]


# --- Labels ------------------------------------------------------------------------------------


def label_list() -> QuerySet[Label]:
    """Every label, by name: what the label picker and the filter offer."""
    return Label.objects.order_by("name", "pk")


def conversations_filter_by_label(
    qs: QuerySet[Conversation], label: Label | int | None
) -> QuerySet[Conversation]:
    """Narrow an already permission-scoped, unsliced conversation queryset to those carrying
    `label`; None leaves it as is. Keeps the ordering; one row per conversation."""
    if label is None:
        return qs
    return qs.filter(labels__id=label.pk if isinstance(label, Label) else int(label))


def labels_for_conversations(*, conversation_ids: list[int]) -> dict[int, list[Label]]:
    """The labels of many conversations in one query, for an inbox list: {conversation id:
    [labels by name]} (conversations without labels are absent)."""
    rows = (
        Conversation.labels.through.objects.filter(conversation_id__in=conversation_ids)
        .select_related("label")
        .order_by("label__name", "label_id")
    )
    result: dict[int, list[Label]] = {}
    for row in rows:
        result.setdefault(row.conversation_id, []).append(row.label)
    return result


# --- Transfer targets --------------------------------------------------------------------------


@dataclass(frozen=True)
class Colleague:
    agent: Agent
    presence: str  # a PresenceState value; "" when Redis cannot say
    open_chats: int


@dataclass(frozen=True)
class TransferTargets:
    colleagues: list[Colleague]
    divisions: list[Division]


def transfer_targets_for_agent(*, agent: Agent) -> TransferTargets:
    """What the transfer dialog offers `agent`: the other active agents of their division, by
    name, with presence and open-chat count (so the agent picks someone free), and every
    division (its rotation picks the agent). Two queries and one Redis round trip; the
    transfer service, not this list, decides what is allowed."""
    colleagues = list(
        Agent.objects.with_access()
        .filter(division_id=agent.division_id)
        .exclude(pk=agent.pk)
        .annotate(
            open_chats=Count(
                "conversations", filter=Q(conversations__status=Conversation.Status.OPEN)
            )
        )
        .order_by("name", "pk")
    )
    try:
        presence = presence_states(agent_ids=[c.pk for c in colleagues])
    except PresenceUnavailable:
        presence = {}
    return TransferTargets(
        colleagues=[
            Colleague(agent=c, presence=presence.get(c.pk, ""), open_chats=c.open_chats)
            for c in colleagues
        ],
        divisions=list(Division.objects.order_by("name", "pk")),
    )


# --- Device connection: who is concerned ---------------------------------------------------


def devices_concerning_agent(
    *, agent_id: int, division_id: int, device_id: int
) -> QuerySet[Device]:
    """The devices whose connection an agent must know about, by name: the one they log in
    with, the active ones routing new chats to their division, and those of the unresolved
    chats they may see (a chat transferred in from another division's number). A disconnect of
    any of them holds the agent's replies, so the workspace shows each one's banner."""
    unresolved = (
        Conversation.objects.filter(_visible_to_agent(agent_id=agent_id, division_id=division_id))
        .exclude(status=Conversation.Status.RESOLVED)
        .values("device_id")
    )
    return Device.objects.filter(
        Q(pk=device_id) | Q(division_id=division_id, is_active=True) | Q(pk__in=unresolved)
    ).order_by("name", "pk")


@dataclass(frozen=True)
class DeviceAudience:
    agent_ids: list[int]
    division_ids: list[int]


def device_audience(*, device: Device) -> DeviceAudience:
    """Who besides the device's own agents hears of its connection changes: the division it
    routes new chats to and the divisions of its queued chats (their queues), and the agents
    holding its open chats (a colleague who took over from another number, a transfer across
    divisions). The mirror of `devices_concerning_agent`, as groups to publish to."""
    unresolved = Conversation.objects.filter(device=device).exclude(
        status=Conversation.Status.RESOLVED
    )
    agent_ids = sorted(
        set(unresolved.filter(agent__isnull=False).values_list("agent_id", flat=True))
    )
    queued_divisions = unresolved.filter(agent__isnull=True).values_list("division_id", flat=True)
    return DeviceAudience(
        agent_ids=agent_ids, division_ids=sorted({device.division_id, *queued_divisions})
    )
