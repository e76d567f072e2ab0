"""Reads for chats. Each selector carries its permission scope in its name (DESIGN.md "Who sees
what"): an agent sees the conversations assigned to them and their division's queue."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from agents.models import Agent

from .models import Conversation, Message

INBOX_LIMIT = 200
THREAD_LIMIT = 200
EARLIER_LIMIT = 50


def _queued_in_division(division_id: int) -> Q:
    return Q(agent__isnull=True, status=Conversation.Status.QUEUED, division_id=division_id)


def _visible_to_agent(*, agent_id: int, division_id: int) -> Q:
    """Assigned to the agent (any status, so a resolved chat stays readable by its agent),
    or waiting in the division's queue."""
    return Q(agent_id=agent_id) | _queued_in_division(division_id)


def conversation_list_for_agent(*, agent: Agent) -> QuerySet[Conversation]:
    """The agent's open chats and their division's queue, newest activity first."""
    return (
        Conversation.objects.filter(
            Q(agent_id=agent.pk) & ~Q(status=Conversation.Status.RESOLVED)
            | _queued_in_division(agent.division_id)
        )
        .select_related("contact", "device", "agent")
        .order_by("-last_activity_at", "-id")[:INBOX_LIMIT]
    )


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


def message_list_for_conversation(*, conversation: Conversation) -> list[Message]:
    """The newest messages of one episode, oldest first (caller has checked permission)."""
    messages = list(
        conversation.messages.select_related("sender_agent", "poll_vote_for").order_by(
            "-created_at", "-id"
        )[:THREAD_LIMIT]
    )
    messages.reverse()
    return messages


def message_list_earlier_for_conversation(*, conversation: Conversation) -> list[Message]:
    """The contact's previous episodes' last messages, shown above the current one."""
    messages = list(
        Message.objects.filter(conversation__contact_id=conversation.contact_id)
        .exclude(conversation_id=conversation.pk)
        .filter(conversation__opened_at__lt=conversation.opened_at)
        .select_related("sender_agent", "poll_vote_for")
        .order_by("-created_at", "-id")[:EARLIER_LIMIT]
    )
    messages.reverse()
    return messages


def message_get_for_agent(*, agent_id: int, division_id: int, message_id: int) -> Message | None:
    conversation_ids = Conversation.objects.filter(
        _visible_to_agent(agent_id=agent_id, division_id=division_id)
    ).values("pk")
    return (
        Message.objects.filter(pk=message_id, conversation_id__in=conversation_ids)
        .select_related("conversation", "sender_agent", "poll_vote_for")
        .first()
    )
