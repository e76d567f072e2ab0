"""Reads for quick replies and polls."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from .models import Poll, QuickReply

if TYPE_CHECKING:
    from agents.models import Agent
    from chats.models import Message


def quick_reply_list_for_agent(*, agent: Agent, query: str = "") -> QuerySet[QuickReply]:
    """Active templates the agent may use: global ones and their division's.

    A division template hides a global one with the same shortcut (the division's own wording
    wins). `query` (a leading "/" is ignored) keeps templates whose shortcut or title contains
    it, case-insensitively, best matches first: exact shortcut, shortcut prefix, shortcut
    contains, title prefix, title contains; then by shortcut. Slice it for a suggestion list.
    """
    mine = Q(division__isnull=True) | Q(division_id=agent.division_id)
    division_shortcuts = QuickReply.objects.filter(
        is_active=True, division_id=agent.division_id
    ).values("shortcut")
    templates = (
        QuickReply.objects.filter(mine, is_active=True)
        .exclude(division__isnull=True, shortcut__in=division_shortcuts)
        .select_related("division")
    )
    term = query.strip().lstrip("/").strip()
    if not term:
        return templates.order_by("shortcut", "pk")
    return (
        templates.filter(Q(shortcut__icontains=term) | Q(title__icontains=term))
        .annotate(
            match_rank=Case(
                When(shortcut__iexact=term, then=Value(0)),
                When(shortcut__istartswith=term, then=Value(1)),
                When(shortcut__icontains=term, then=Value(2)),
                When(title__istartswith=term, then=Value(3)),
                default=Value(4),
                output_field=IntegerField(),
            )
        )
        .order_by("match_rank", "shortcut", F("division_id").asc(nulls_last=True), "pk")
    )


def quick_reply_get_for_agent(*, agent: Agent, quick_reply_id: int) -> QuickReply | None:
    """One template the agent may use now (active, global or their division's, not hidden by a
    division template of the same shortcut), else None."""
    return quick_reply_list_for_agent(agent=agent).filter(pk=quick_reply_id).first()


def poll_list_for_agent(*, agent: Agent) -> QuerySet[Poll]:
    """Active saved polls the agent may send: global ones and their division's, by question."""
    return Poll.objects.filter(
        Q(division__isnull=True) | Q(division_id=agent.division_id), is_active=True
    ).order_by("name", "pk")


def poll_get_for_agent(*, agent: Agent, poll_id: int) -> Poll | None:
    return poll_list_for_agent(agent=agent).filter(pk=poll_id).first()


class PollVoter(NamedTuple):
    address: str  # the voter's number
    name: str  # their WhatsApp name when known, else ""


class PollTallyRow(NamedTuple):
    choice: str
    count: int
    voters: list[PollVoter]


def poll_tally(*, poll_message: Message) -> list[PollTallyRow]:
    """Count the votes on a sent poll, one row per choice in the poll's order.

    Votes are inbound messages with `poll_vote_for=poll_message`; each carries in
    `poll_choices` the choice(s) the voter has selected now. WhatsApp lets a voter change or
    withdraw their vote, so only each voter's latest vote counts (by the gateway's time, else
    arrival; an empty selection withdraws). The voter is the contact in a private chat and
    `author_address` in a group. Selected texts that are not among the poll's choices (after
    trimming, ignoring case) are ignored. Checks no permissions: the caller has already
    checked that the user may see the conversation.
    """
    votes = (
        poll_message.poll_votes.filter(direction=type(poll_message).Direction.IN)
        .select_related("conversation__contact")
        .order_by(Coalesce("gateway_timestamp", "created_at"), "pk")
    )
    latest: dict[str, tuple[PollVoter, list]] = {}
    for vote in votes:
        contact = vote.conversation.contact
        if contact.is_group:
            voter = PollVoter(address=vote.author_address, name=vote.author_name)
        else:
            voter = PollVoter(address=contact.address, name=contact.name)
        if not voter.address:
            continue
        latest.pop(voter.address, None)  # re-insert: voters listed by their latest vote
        selected = vote.poll_choices if isinstance(vote.poll_choices, list) else []
        latest[voter.address] = (voter, selected)

    by_key = {str(choice).strip().casefold(): choice for choice in poll_message.poll_choices}
    voters_of: dict[str, list[PollVoter]] = {choice: [] for choice in poll_message.poll_choices}
    for voter, selected in latest.values():
        counted: set[str] = set()
        for text in selected:
            choice = by_key.get(str(text).strip().casefold())
            if choice is not None and choice not in counted:
                voters_of[choice].append(voter)
                counted.add(choice)
    return [PollTallyRow(choice, len(voters), voters) for choice, voters in voters_of.items()]
