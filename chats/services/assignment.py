"""Who gets a conversation. Called inside the caller's transaction; pushes on commit."""

from __future__ import annotations

import random

from django.db import transaction
from django.utils import timezone

from agents.models import Agent
from rotation.models import AssignmentLog

from ..models import Conversation


@transaction.atomic
def conversation_assign(*, conversation: Conversation, trigger: str) -> Agent | None:
    """Give an unassigned conversation an agent by its division's rotation, or leave it queued.

    Returns the agent, or None when nobody is eligible (the conversation stays `queued`).
    Interim version: a random active agent of the division. The rotation issue replaces it with
    full/partial cycling, presence, capacity and the queue.
    """
    candidates = list(Agent.objects.filter(division=conversation.division, is_active=True))
    agent = random.choice(candidates) if candidates else None
    if agent is not None:
        conversation.agent = agent
        conversation.status = Conversation.Status.OPEN
        conversation.assigned_at = timezone.now()
        conversation.save(update_fields=["agent", "status", "assigned_at"])
    AssignmentLog.objects.create(
        pool=f"division:{conversation.division_id}",
        mode=conversation.division.rotation_mode,
        trigger=trigger,
        candidates=[a.pk for a in candidates],
        chosen_member=agent.pk if agent else None,
        agent=agent,
        conversation=conversation,
    )
    return agent
