"""The agent reading a conversation."""

from __future__ import annotations

from django.db import transaction

from agents.models import Agent
from realtime import publisher as realtime

from ..models import Conversation


@transaction.atomic
def conversation_mark_read(*, conversation: Conversation, agent: Agent) -> bool:
    """Clear the unread count when the conversation's own agent reads it.

    Idempotent (a conditional update: nothing happens when already read, or when the reader
    is not the assigned agent — a colleague glancing at the queue does not mark it read).
    On commit: `conversation.updated` so the agent's other tabs clear the badge too.
    """
    updated = Conversation.objects.filter(
        pk=conversation.pk, agent_id=agent.pk, unread_count__gt=0
    ).update(unread_count=0)
    if updated:
        realtime.conversation_updated_on_commit(
            conversation_id=conversation.pk,
            agent_id=agent.pk,
            division_id=conversation.division_id,
        )
    return bool(updated)
