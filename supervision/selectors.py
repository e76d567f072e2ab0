"""Reads for the supervision views, each filtered by the supervisor's scope (404 outside it)."""

from __future__ import annotations

from django.db.models import QuerySet

from agents.models import Agent
from chats.models import Conversation, Message
from rotation.selectors import assignment_log_explain, assignment_logs_for_conversation

from .models import SupervisorAction
from .scope import Scope


def agent_get_for_scope(*, scope: Scope, agent_id: int) -> Agent | None:
    return Agent.objects.filter(scope.q(), pk=agent_id).select_related("user", "division").first()


def agents_for_scope(*, scope: Scope) -> QuerySet[Agent]:
    return Agent.objects.filter(scope.q(), is_active=True).select_related("division")


def conversation_get_for_scope(*, scope: Scope, conversation_id: int) -> Conversation | None:
    return (
        Conversation.objects.filter(scope.q(), pk=conversation_id)
        .select_related("contact", "device", "division", "agent")
        .first()
    )


def conversations_for_scope(
    *, scope: Scope, status: str = "", limit: int = 100
) -> list[Conversation]:
    qs = Conversation.objects.filter(scope.q()).select_related("contact", "division", "agent")
    if status in Conversation.Status.values:
        qs = qs.filter(status=status)
    return list(qs.order_by("-last_activity_at", "-pk")[:limit])


def conversation_history(*, conversation: Conversation) -> list[Message]:
    """The whole thread, oldest first (supervisors read it all; no paging)."""
    return list(
        Message.objects.filter(conversation=conversation)
        .select_related("sender_agent")
        .order_by("created_at", "id")
    )


def conversation_rotation_log(*, conversation: Conversation) -> list[tuple]:
    logs = list(assignment_logs_for_conversation(conversation=conversation))
    return [(log, assignment_log_explain(log=log)) for log in logs]


def earlier_episodes(*, scope: Scope, conversation: Conversation) -> list[Conversation]:
    return list(
        Conversation.objects.filter(scope.q(), contact_id=conversation.contact_id)
        .exclude(pk=conversation.pk)
        .order_by("-opened_at")[:20]
    )


def actions_for_scope(*, scope: Scope, limit: int = 20) -> list[SupervisorAction]:
    return list(
        SupervisorAction.objects.filter(scope.q("agent__division"))
        .select_related("actor", "agent")
        .order_by("-created_at", "-id")[:limit]
    )
