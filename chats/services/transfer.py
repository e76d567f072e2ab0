"""Moving a conversation to someone else: transfer (to a chosen agent, or to a division's
rotation) and hand back (to the rotation of the same division).

The old agent's page drops the chat at once (`conversation.removed`: their consumer re-checks
visibility and removes the row and the open thread); the new agent gets `conversation.assigned`
(a transfer notification, naming who handed it over; a hand back's says so too), and the chat
is unread to them (at least one unread: their list marks it). Every move writes one
AssignmentLog row, trigger TRANSFER or HAND_BACK. The conversation stays on its device: replies
leave through the number the customer wrote to, whoever answers.

Locks: the conversation row first (so a reply, note or resolve committing at the same moment
waits and then sees the new owner), then, for a move through rotation, the division's pool lock
inside `conversation_assign`. Inbound messages lock the contact and then the pool, and queue
drains skip locked conversation rows, so the order cannot deadlock.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent
from divisions.models import Division
from realtime import publisher as realtime
from rotation.models import AssignmentLog, LogNote, RotationState
from rotation.services import Member, division_pool, rotation_log

from ..models import Conversation
from .assignment import conversation_assign
from .notes import note_store, note_text_clean

Trigger = AssignmentLog.Trigger


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _cycle_of(division_id: int) -> int:
    # For the log only: a direct transfer uses nobody's turn, so the cycle is not locked.
    return (
        RotationState.objects.filter(pool=division_pool(division_id))
        .values_list("cycle", flat=True)
        .first()
    ) or 0


def _mark_unread_for_new_holder(*, conversation: Conversation, old_agent_id: int | None) -> None:
    """A chat that reaches a new agent is unread to them, whatever its previous holder had read:
    at least one unread, so their list marks the row (and shows a count) until they open it."""
    if conversation.agent_id is None or conversation.agent_id == old_agent_id:
        return
    Conversation.objects.filter(pk=conversation.pk, unread_count=0).update(unread_count=1)


def _announce_move(
    *,
    conversation: Conversation,
    old_agent_id: int | None,
    old_division_id: int,
) -> None:
    """On commit: the previous holder (an agent, or a division's queue) drops the chat."""
    if old_agent_id is not None and old_agent_id != conversation.agent_id:
        removed: realtime.ConversationRemoved = {
            "type": "conversation.removed",
            "conversation_id": conversation.pk,
        }
        realtime.publish_on_commit(realtime.agent_group(old_agent_id), dict(removed))
    elif old_agent_id is None and conversation.agent_id is not None:
        # It was waiting in a queue: colleagues' queue lists drop it.
        taken: realtime.ConversationTaken = {
            "type": "conversation.taken",
            "conversation_id": conversation.pk,
            "agent_id": conversation.agent_id,
        }
        realtime.publish_on_commit(realtime.division_queue_group(old_division_id), dict(taken))
    elif old_agent_id is None and conversation.division_id != old_division_id:
        removed = {"type": "conversation.removed", "conversation_id": conversation.pk}
        realtime.publish_on_commit(realtime.division_queue_group(old_division_id), dict(removed))


def _transfer(
    *,
    conversation: Conversation,
    to_agent: Agent | None,
    to_division: Division | None,
    note: str,
    note_agent: Agent | None,
    note_author: str,
    by_staff: bool,
) -> Agent | None:
    if (to_agent is None) == (to_division is None):
        raise ValidationError(
            _("Choose either an agent or a division to transfer to."), code="one_target"
        )
    note = (note or "").strip()
    if note:
        note = note_text_clean(note)
    if conversation.status == Conversation.Status.RESOLVED:
        raise ValidationError(_("This conversation is resolved."), code="resolved")

    old_agent_id, old_division_id = conversation.agent_id, conversation.division_id
    if to_agent is not None:
        to_agent = Agent.objects.select_related("division", "user").get(pk=to_agent.pk)
        if not to_agent.has_access:
            raise ValidationError(_("That agent is not active."), code="agent_inactive")
        if to_agent.pk == old_agent_id:
            raise ValidationError(
                _("The conversation is already assigned to %(name)s.") % {"name": to_agent.name},
                code="same_agent",
            )
        # The target agent's division takes the chat over: its reports and queue rules apply.
        conversation.agent = to_agent
        conversation.division = to_agent.division
        conversation.status = Conversation.Status.OPEN
        conversation.assigned_at = timezone.now()
        conversation.save(update_fields=["agent", "division", "status", "assigned_at"])
        notes = [LogNote.DIRECT_TRANSFER] + ([LogNote.BY_STAFF] if by_staff else [])
        rotation_log(
            pool=division_pool(to_agent.division_id),
            mode=to_agent.division.rotation_mode,
            cycle=_cycle_of(to_agent.division_id),
            trigger=Trigger.TRANSFER,
            candidates=[Member(id=to_agent.pk, label=to_agent.name)],
            member_id=to_agent.pk,
            conversation=conversation,
            notes=notes,
        )
        assigned: realtime.ConversationAssigned = {
            "type": "conversation.assigned",
            "conversation_id": conversation.pk,
            "agent_id": to_agent.pk,
        }
        realtime.publish_on_commit(realtime.agent_group(to_agent.pk), dict(assigned))
        new_agent: Agent | None = to_agent
    else:
        if not Division.objects.filter(pk=to_division.pk).exists():
            raise ValidationError(_("That division no longer exists."), code="unknown_division")
        conversation.agent = None
        conversation.division_id = to_division.pk
        conversation.save(update_fields=["agent", "division"])
        # The agent handing it on is not picked again (relevant when the division is their own).
        new_agent = conversation_assign(
            conversation=conversation,
            trigger=Trigger.TRANSFER,
            exclude_agent_ids=[old_agent_id] if old_agent_id else [],
        )
        conversation.refresh_from_db(fields=["agent", "status", "assigned_at"])

    # Before the pushes go out (on commit): the recipient's row renders marked.
    _mark_unread_for_new_holder(conversation=conversation, old_agent_id=old_agent_id)
    _announce_move(
        conversation=conversation, old_agent_id=old_agent_id, old_division_id=old_division_id
    )
    if note:
        # After the move, so the note is pushed to the new holder along with the chat.
        note_store(conversation=conversation, text=note, agent=note_agent, author_name=note_author)
    return new_agent


@transaction.atomic
def conversation_transfer(
    *,
    conversation: Conversation,
    by_agent: Agent,
    to_agent: Agent | None = None,
    to_division: Division | None = None,
    note: str = "",
) -> Agent | None:
    """Hand a conversation to another agent, or to a division's rotation.

    Permission: `by_agent` is active and the conversation is assigned to them and not resolved
    (supervisors use `conversation_transfer_by_user`). Exactly one of:
    - `to_agent`: any active agent, of any division; that agent's division becomes the
      conversation's. Their open-chat limit and presence are not checked: a person chose them.
      Logged as TRANSFER with the note `direct_transfer` (no rotation turn is used).
    - `to_division`: the chat goes through that division's rotation (`conversation_assign`,
      trigger TRANSFER), never back to `by_agent`; when nobody is eligible it waits in that
      division's queue (`conversation.queued` to the queue).
    `note` (optional) becomes an internal note by `by_agent`, after the move.

    Returns the new agent, or None when the chat is queued. Raises ValidationError with a clear
    message and changes nothing when a rule is broken. Locks the conversation row, then (for a
    rotation) the division's pool. On commit: `conversation.removed` to `by_agent`,
    `conversation.assigned` to the new agent, `message.created` for the note. Not idempotent.
    """
    conversation = _locked(conversation)
    if not by_agent.is_active:
        raise ValidationError(_("Your agent account is inactive."), code="agent_inactive")
    if conversation.agent_id != by_agent.pk:
        raise ValidationError(_("This conversation is not assigned to you."), code="not_assigned")
    return _transfer(
        conversation=conversation,
        to_agent=to_agent,
        to_division=to_division,
        note=note,
        note_agent=by_agent,
        note_author="",
        by_staff=False,
    )


@transaction.atomic
def conversation_transfer_by_user(
    *,
    conversation: Conversation,
    by_user,
    to_agent: Agent | None = None,
    to_division: Division | None = None,
    note: str = "",
) -> Agent | None:
    """A supervisor's transfer: like `conversation_transfer`, for any conversation that is not
    resolved (assigned to anyone, or waiting in a queue).

    Permission: `by_user` is an active staff user. The note is signed with their name; a direct
    transfer's log row carries `by_staff`. Same targets, locks, pushes and errors; a queued
    chat's queue gets `conversation.taken` (or `conversation.removed` when it moves to another
    division's queue) instead of an agent's removal.
    """
    if by_user is None or not by_user.is_active or not by_user.is_staff:
        raise ValidationError(
            _("Only supervisors may transfer other agents' conversations."), code="not_staff"
        )
    conversation = _locked(conversation)
    return _transfer(
        conversation=conversation,
        to_agent=to_agent,
        to_division=to_division,
        note=note,
        note_agent=None,
        note_author=by_user.get_full_name() or by_user.get_username(),
        by_staff=True,
    )


@transaction.atomic
def conversation_hand_back(*, conversation: Conversation, by_agent: Agent) -> Agent | None:
    """Give a conversation back to the rotation of its division.

    Permission: `by_agent` is active and the conversation is assigned to them and not resolved.
    The rotation (`conversation_assign`, trigger HAND_BACK) picks among the other eligible
    agents; `by_agent` is skipped this time (logged as `handed_on`), so a hand back never lands
    on the agent who gave it up. When nobody else is eligible the chat waits in the division's
    queue, which `by_agent` also sees, so they may take it again.

    Returns the new agent or None (queued). Locks the conversation row, then the division's
    pool. On commit: `conversation.removed` to `by_agent`; `conversation.assigned` to the new
    agent or `conversation.queued` to the division's queue. Not idempotent.
    """
    conversation = _locked(conversation)
    if not by_agent.is_active:
        raise ValidationError(_("Your agent account is inactive."), code="agent_inactive")
    if conversation.agent_id != by_agent.pk:
        raise ValidationError(_("This conversation is not assigned to you."), code="not_assigned")
    if conversation.status == Conversation.Status.RESOLVED:
        raise ValidationError(_("This conversation is resolved."), code="resolved")
    old_division_id = conversation.division_id
    conversation.agent = None
    conversation.save(update_fields=["agent"])
    new_agent = conversation_assign(
        conversation=conversation, trigger=Trigger.HAND_BACK, exclude_agent_ids=[by_agent.pk]
    )
    conversation.refresh_from_db(fields=["agent", "status", "assigned_at"])
    _mark_unread_for_new_holder(conversation=conversation, old_agent_id=by_agent.pk)
    _announce_move(
        conversation=conversation, old_agent_id=by_agent.pk, old_division_id=old_division_id
    )
    return new_agent
