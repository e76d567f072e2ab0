"""Who gets a conversation: rotation, eligibility, sticky contacts and the waiting queue.

The generic pick (cycle, lock, kept turns, log row) is `rotation.services`; this module decides
what it means for a conversation: which agents of the division are eligible right now (active,
present, under their open-chat limit), whether a returning contact goes back to their previous
agent, and what happens when nobody is eligible (the conversation waits `queued` and is assigned
oldest-first by `queue_drain` when someone becomes eligible).

Every decision here is taken under the division's pool lock (`rotation_state_lock`), so a pick,
a returning-contact assignment and a queue drain in one division never interleave, and the
open-chat counts they read cannot change under them. Who is in the pool and their presence are
read just before the lock, to keep Redis round trips out of the critical section. Pushes go out
on commit.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Collection
from dataclasses import dataclass, replace

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from agents.models import Agent
from agents.presence import PresenceState, PresenceUnavailable, presence_states
from divisions.models import Division
from realtime import publisher as realtime
from rotation.models import AssignmentLog, LogNote, SkipReason
from rotation.services import (
    Member,
    division_pool,
    rotation_log,
    rotation_pick,
    rotation_state_lock,
)

from ..models import Conversation

logger = logging.getLogger(__name__)

Trigger = AssignmentLog.Trigger

# Triggers for which a returning contact goes back to their previous agent. A transfer or a hand
# back is a person's decision to move the chat away; it goes through rotation.
_STICKY_TRIGGERS = {Trigger.NEW_CHAT, Trigger.RETURNING, Trigger.QUEUE_DRAIN}

# How many queued conversations one drain assigns while holding the pool lock; the next drain
# (the beat task, the next agent coming online) continues.
DRAIN_BATCH = 50


@dataclass(frozen=True)
class _Pool:
    """Who is in a division's pool and their presence, read before taking the pool lock."""

    division: Division
    agents: dict[int, Agent]
    presence: dict[int, str] | None  # None: Redis could not say


def _pool_read(division: Division) -> _Pool:
    # Outside the lock on purpose: membership and presence are not what the lock protects (an
    # agent deactivated a moment later could as well be deactivated a moment after our commit),
    # and reading them here keeps the Redis round trips out of the critical section.
    agents = {a.pk: a for a in Agent.objects.with_access().filter(division=division)}
    presence: dict[int, str] | None = {}
    if agents:
        try:
            presence = presence_states(agent_ids=sorted(agents))
        except PresenceUnavailable:
            # Without Redis nobody's presence is known. Online-only divisions queue their chats
            # (the beat drain assigns them once Redis is back); the others assign as usual.
            logger.warning("presence unavailable; division %s assigns without it", division.pk)
            presence = None
    return _Pool(division=division, agents=agents, presence=presence)


def _pool_members(pool: _Pool) -> list[Member]:
    """The pool with each agent's eligibility. Under the pool lock: the open-chat counts it
    reads cannot change until the transaction ends."""
    division, presence = pool.division, pool.presence
    if not pool.agents:
        return []
    open_counts = dict(
        Conversation.objects.filter(agent_id__in=list(pool.agents), status=Conversation.Status.OPEN)
        .values("agent_id")
        .annotate(n=Count("pk"))
        .values_list("agent_id", "n")
    )
    members = []
    for agent in sorted(pool.agents.values(), key=lambda a: a.pk):
        limit = division.max_open_chats if agent.max_open_chats is None else agent.max_open_chats
        n_open = open_counts.get(agent.pk, 0)
        state = presence.get(agent.pk) if presence is not None else None
        reason, detail = "", ""
        if presence is None and division.online_only:
            reason = SkipReason.PRESENCE_UNKNOWN
        elif state == PresenceState.AWAY:
            reason = SkipReason.AWAY
        elif division.online_only and state == PresenceState.OFFLINE:
            reason = SkipReason.OFFLINE
        elif limit is not None and n_open >= limit:
            reason, detail = SkipReason.AT_CAPACITY, f"{n_open}/{limit}"
        members.append(Member(id=agent.pk, label=agent.name, unavailable=reason, detail=detail))
    return members


def division_members(*, division: Division) -> list[Member]:
    """The division's rotation pool as it is now: every active agent, with why they are not
    eligible if they are not (away; offline when the division takes online agents only; at
    their open-chat limit). For counts that cannot move, call it under the pool lock."""
    return _pool_members(_pool_read(division))


def _previous_agent_id(conversation: Conversation) -> int | None:
    return (
        Conversation.objects.filter(
            contact_id=conversation.contact_id,
            status=Conversation.Status.RESOLVED,
            agent__isnull=False,
        )
        .exclude(pk=conversation.pk)
        .order_by("-resolved_at", "-pk")
        .values_list("agent_id", flat=True)
        .first()
    )


def _set_agent(
    conversation: Conversation, agent: Agent, *, from_queue: bool, announce: bool = True
) -> Agent:
    conversation.agent = agent
    conversation.status = Conversation.Status.OPEN
    conversation.assigned_at = timezone.now()
    conversation.save(update_fields=["agent", "status", "assigned_at"])
    logger.info(
        "conversation %s assigned to %s (agent %s)%s",
        conversation.pk,
        agent.name,
        agent.pk,
        " from the queue" if from_queue else "",
        extra={"conversation_id": conversation.pk, "agent_id": agent.pk},
    )
    if not announce:
        return agent
    event: realtime.ConversationAssigned = {
        "type": "conversation.assigned",
        "conversation_id": conversation.pk,
        "agent_id": agent.pk,
    }
    realtime.publish_on_commit(realtime.agent_group(agent.pk), dict(event))
    if from_queue:
        # Colleagues' queue lists drop it; their consumers re-check what they may see.
        realtime.publish_on_commit(
            realtime.division_queue_group(conversation.division_id), dict(event)
        )
    return agent


def _assign_locked(
    *,
    conversation: Conversation,
    pool: _Pool,
    state,
    members: list[Member],
    trigger: str,
    rng: random.Random | None,
    previous: int | None,
    announce: bool = True,
) -> Agent | None:
    """Assign under the pool lock. `previous` is the contact's previous agent, if any."""
    division = pool.division
    from_queue = trigger == Trigger.QUEUE_DRAIN
    notes = [LogNote.FROM_QUEUE] if from_queue else []
    if division.sticky_returning_contacts and trigger in _STICKY_TRIGGERS:
        by_id = {m.id: m for m in members}
        if previous is not None and previous in by_id and not by_id[previous].unavailable:
            # Outside the rotation: a returning contact does not use anyone's turn.
            rotation_log(
                pool=division_pool(division.pk),
                mode=division.rotation_mode,
                cycle=state.cycle,
                trigger=Trigger.RETURNING,
                candidates=[by_id[previous]],
                member_id=previous,
                conversation=conversation,
                notes=[LogNote.PREVIOUS_AGENT, *notes],
            )
            return _set_agent(
                conversation, pool.agents[previous], from_queue=from_queue, announce=announce
            )
        if previous is not None:
            notes.append(LogNote.PREVIOUS_AGENT_UNAVAILABLE)

    if not any(not m.unavailable for m in members):
        notes.append(LogNote.NOBODY_ELIGIBLE)
    pick = rotation_pick(
        state=state,
        mode=division.rotation_mode,
        members=members,
        trigger=trigger,
        skipped_turn=division.skipped_turn,
        rng=rng,
        conversation=conversation,
        notes=notes,
    )
    if pick.member_id is None:
        return None
    return _set_agent(
        conversation, pool.agents[pick.member_id], from_queue=from_queue, announce=announce
    )


@transaction.atomic
def conversation_assign(
    *,
    conversation: Conversation,
    trigger: str,
    rng: random.Random | None = None,
    announce: bool = True,
    exclude_agent_ids: Collection[int] = (),
    inserted_here: bool = False,
    first_contact: bool = False,
) -> Agent | None:
    """Give a conversation without an agent one by its division's rotation, or leave it queued.

    Returns the agent, or None when nobody is eligible: the conversation stays `queued`, a
    `conversation.queued` event goes to the division's queue group on commit, and `queue_drain`
    assigns it later. On assignment the conversation becomes `open` and `conversation.assigned`
    goes to the agent's group on commit. Every outcome writes one AssignmentLog row.

    Sticky: a conversation that has an agent keeps it (the call returns that agent and writes
    nothing), so calling twice is harmless. A returning contact goes to their previous agent
    when the division says so and that agent is eligible (no rotation turn is used); callers
    pass NEW_CHAT for every new episode and the log says RETURNING when that rule applied.

    Transfer and hand back: clear the conversation's agent first, then call this with that
    trigger (they skip the returning-contact rule). `exclude_agent_ids` (the agent who just
    handed the chat on) are not picked this time; the log lists them as skipped (`handed_on`).

    `announce=False` leaves the push to the caller: the inbound flow announces the new chat with
    its first message, so the agent's page renders it once.

    Shortcuts for a caller that knows more (the inbound flow, one webhook at a time):
    `inserted_here` says the caller inserted the conversation in its current transaction, so
    no other transaction can have assigned it and the re-read under the lock is skipped;
    `first_contact` says the contact itself was created there, so it has no previous agent.

    `conversation` is updated in place (agent, status, assigned_at). Locks the division's pool
    row (see `rotation_state_lock`) for the rest of the caller's transaction. `rng` is for tests.
    """
    division = Division.objects.get(pk=conversation.division_id)
    pool = _pool_read(division)
    previous = None
    if trigger in _STICKY_TRIGGERS and not first_contact:
        previous = _previous_agent_id(conversation)
    state = rotation_state_lock(pool=division_pool(division.pk))
    if not inserted_here:
        # Under the lock: a drain in another process may have assigned it since the caller
        # read it.
        conversation.refresh_from_db(fields=["agent", "status"])
    if conversation.agent_id is not None:
        return conversation.agent
    if conversation.status == Conversation.Status.RESOLVED:
        return None
    members = [
        replace(m, unavailable=SkipReason.HANDED_ON, detail="")
        if m.id in exclude_agent_ids and not m.unavailable
        else m
        for m in _pool_members(pool)
    ]
    agent = _assign_locked(
        conversation=conversation,
        pool=pool,
        state=state,
        members=members,
        trigger=trigger,
        rng=rng,
        previous=previous,
        announce=announce,
    )
    if agent is None:
        logger.info(
            "conversation %s waits in the queue of division %s: no agent is eligible",
            conversation.pk,
            division.pk,
            extra={"conversation_id": conversation.pk},
        )
        if conversation.status != Conversation.Status.QUEUED:
            conversation.status = Conversation.Status.QUEUED
            conversation.save(update_fields=["status"])
        if not announce:
            return None
        event: realtime.ConversationQueued = {
            "type": "conversation.queued",
            "conversation_id": conversation.pk,
            "division_id": division.pk,
        }
        realtime.publish_on_commit(realtime.division_queue_group(division.pk), dict(event))
    return agent


def queue_drain(
    *, division: Division, limit: int = DRAIN_BATCH, rng: random.Random | None = None
) -> list[int]:
    """Assign the division's queued conversations, oldest `opened_at` first, while anyone is
    eligible. Returns the ids of the conversations it assigned.

    Call it whenever someone may have become eligible: an agent's socket connects (they came
    online), an agent switches away off, an agent resolves a chat or gets a higher limit
    (`conversation_resolve` will call it), and every 30 s from the beat task as a safety net.

    Does not race: it takes the division's pool lock (so drains and new assignments in one
    division run one at a time), then locks the queued rows with SKIP LOCKED on PostgreSQL (a
    row another transaction is handling is left to it); on SQLite the IMMEDIATE transaction
    already serializes writers. Runs in its own transaction (or the caller's); assigns at most
    `limit` per call. Idempotent: with nothing queued or nobody eligible it writes nothing.
    """
    queued = Conversation.objects.filter(
        division_id=division.pk, status=Conversation.Status.QUEUED, agent__isnull=True
    )
    # Cheap check first: most calls (every connect, every beat) find an empty queue and should
    # not take the pool lock, which on SQLite is the whole database's write lock.
    if not queued.exists():
        return []
    assigned: list[int] = []
    with transaction.atomic():
        pool = _pool_read(Division.objects.get(pk=division.pk))
        state = rotation_state_lock(pool=division_pool(division.pk))
        batch = list(queued.select_for_update(skip_locked=True).order_by("opened_at", "pk")[:limit])
        for conversation in batch:
            members = _pool_members(pool)
            if all(m.unavailable for m in members):
                break
            agent = _assign_locked(
                conversation=conversation,
                pool=pool,
                state=state,
                members=members,
                trigger=Trigger.QUEUE_DRAIN,
                rng=rng,
                previous=_previous_agent_id(conversation),
            )
            if agent is None:
                break
            assigned.append(conversation.pk)
    return assigned


def queue_drain_all() -> dict[int, int]:
    """Drain every division that has queued conversations (the beat task's safety net).

    Each division drains in its own transaction. Returns {division id: assigned count}.
    """
    division_ids = (
        Conversation.objects.filter(status=Conversation.Status.QUEUED, agent__isnull=True)
        .values_list("division_id", flat=True)
        .distinct()
    )
    result = {}
    for division in Division.objects.filter(pk__in=list(division_ids)):
        assigned = queue_drain(division=division)
        if assigned:
            result[division.pk] = len(assigned)
    return result
