"""An agent acting on a conversation from the workspace: take it from the queue, resolve it,
reopen it. Writes and pushes live here; the views only call these."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agents.models import Agent
from divisions.models import Division
from realtime import publisher as realtime
from rotation.models import AssignmentLog, RotationState
from rotation.services import Member, division_pool, rotation_log

from ..models import Conversation
from .assignment import queue_drain

Status = Conversation.Status


def _locked(conversation: Conversation) -> Conversation:
    # SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transaction already serializes.
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _check_active(agent: Agent) -> None:
    if not agent.is_active:
        raise ValidationError(_("Your agent account is inactive."), code="agent_inactive")


def _push_updated(conversation: Conversation) -> None:
    realtime.conversation_updated_on_commit(
        conversation_id=conversation.pk,
        agent_id=conversation.agent_id,
        division_id=conversation.division_id,
    )


@transaction.atomic
def conversation_take(*, conversation: Conversation, agent: Agent) -> Conversation:
    """The agent takes a queued chat of their own division.

    Locks the conversation row and re-checks it under the lock: only a chat that is still
    queued, without an agent, in the agent's division can be taken, so two agents taking at
    once (or a queue drain) give it to exactly one; the other gets `already_taken`. Writes one
    AssignmentLog row (trigger TAKE) so "why this agent" can say so. Not idempotent on purpose:
    taking a chat that is already yours is `already_taken` too.

    On commit: `conversation.taken` to the division's queue (colleagues drop it) and
    `conversation.updated` to the agent (their other tabs show it as theirs).
    """
    _check_active(agent)
    conversation = _locked(conversation)
    if (
        conversation.status != Status.QUEUED
        or conversation.agent_id is not None
        or conversation.division_id != agent.division_id
    ):
        raise ValidationError(
            _("This chat is no longer waiting in your queue."), code="already_taken"
        )
    division = Division.objects.get(pk=conversation.division_id)
    pool = division_pool(division.pk)
    cycle = RotationState.objects.filter(pool=pool).values_list("cycle", flat=True).first() or 0
    conversation.agent = agent
    conversation.status = Status.OPEN
    conversation.assigned_at = timezone.now()
    conversation.save(update_fields=["agent", "status", "assigned_at"])
    rotation_log(
        pool=pool,
        mode=division.rotation_mode,
        cycle=cycle,
        trigger=AssignmentLog.Trigger.TAKE,
        candidates=[Member(id=agent.pk, label=agent.name)],
        member_id=agent.pk,
        conversation=conversation,
    )
    taken: realtime.ConversationTaken = {
        "type": "conversation.taken",
        "conversation_id": conversation.pk,
        "agent_id": agent.pk,
    }
    realtime.publish_on_commit(realtime.division_queue_group(division.pk), dict(taken))
    _push_updated(conversation)
    return conversation


@transaction.atomic
def conversation_resolve(*, conversation: Conversation, agent: Agent) -> Conversation:
    """The assigned agent marks an open chat resolved.

    Locks the conversation row; only its own agent may resolve it, and only while it is open
    (`not_assigned` / `not_open` otherwise). The unread count is cleared. A new message from
    the contact later opens a new episode (chats.services.inbound).

    On commit: `conversation.updated` to the agent (the row leaves their Mine list in every
    tab), then `queue_drain` for the division: the agent has one open chat fewer, so someone
    waiting may now be assigned. A drain failure (Redis down) is logged, never undoes the
    resolve; the beat task drains again.
    """
    _check_active(agent)
    conversation = _locked(conversation)
    if conversation.agent_id != agent.pk:
        raise ValidationError(_("This conversation is not assigned to you."), code="not_assigned")
    if conversation.status != Status.OPEN:
        raise ValidationError(_("Only an open conversation can be resolved."), code="not_open")
    conversation.status = Status.RESOLVED
    conversation.resolved_at = timezone.now()
    conversation.unread_count = 0
    conversation.save(update_fields=["status", "resolved_at", "unread_count"])
    _push_updated(conversation)
    division = Division.objects.get(pk=conversation.division_id)
    transaction.on_commit(lambda: queue_drain(division=division), robust=True)
    return conversation


@transaction.atomic
def conversation_reopen(*, conversation: Conversation, agent: Agent) -> Conversation:
    """The agent who resolved a chat opens it again (same episode, still theirs).

    Locks the conversation row. Refused when it is not theirs (`not_assigned`), not resolved
    (`not_resolved`), or when the contact has written since and a newer episode is open
    (`newer_episode`: at most one unresolved episode per contact; the agent continues there).

    On commit: `conversation.updated` to the agent (the row comes back to their Mine list).
    """
    _check_active(agent)
    conversation = _locked(conversation)
    if conversation.agent_id != agent.pk:
        raise ValidationError(_("This conversation is not assigned to you."), code="not_assigned")
    if conversation.status != Status.RESOLVED:
        raise ValidationError(_("This conversation is not resolved."), code="not_resolved")
    newer = (
        Conversation.objects.filter(contact_id=conversation.contact_id)
        .exclude(status=Status.RESOLVED)
        .exclude(pk=conversation.pk)
        .exists()
    )
    if newer:
        raise ValidationError(
            _("The customer has written again: continue in the newer conversation."),
            code="newer_episode",
        )
    conversation.status = Status.OPEN
    conversation.resolved_at = None
    conversation.last_activity_at = timezone.now()
    conversation.save(update_fields=["status", "resolved_at", "last_activity_at"])
    _push_updated(conversation)
    return conversation
