"""Supervisor actions on agents (each writes a SupervisorAction row and pushes on commit).

Every action takes the supervisor's `Scope` and refuses an agent outside it (the views 404
first; this is the second lock on the door). Chats move through the chats services, never by
hand, so each move keeps its assignment log row and its pushes (chats/services/transfer.py).
"""

from __future__ import annotations

import logging
from typing import Literal, TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agents.models import Agent
from agents.presence import presence_set_away
from chats.models import Conversation
from chats.services.assignment import queue_drain
from chats.services.transfer import conversation_hand_back, conversation_transfer_by_user
from realtime import publisher as realtime

from .models import SupervisorAction, SupervisorScope
from .scope import Scope

logger = logging.getLogger(__name__)


class SupervisionActed(TypedDict):
    """To the supervisors' sockets: a board row changed by an action (they filter by division)."""

    type: Literal["supervision.acted"]
    agent_id: int
    division_id: int
    kind: str


def _check(scope: Scope, agent: Agent) -> None:
    if not scope.allows(agent.division_id):
        raise PermissionDenied("agent outside the supervisor's divisions")


def _log(*, scope: Scope, agent: Agent, kind: str, moved: int = 0) -> SupervisorAction:
    action = SupervisorAction(actor_id=scope.user_id, agent=agent, kind=kind, chats_moved=moved)
    action.full_clean()
    action.save()
    event: SupervisionActed = {
        "type": "supervision.acted",
        "agent_id": agent.pk,
        "division_id": agent.division_id,
        "kind": kind,
    }
    realtime.publish_on_commit(realtime.STAFF_GROUP, dict(event))
    logger.info(
        "supervisor %s: %s on agent %s (%s chats moved)", scope.user_id, kind, agent.pk, moved
    )
    return action


@transaction.atomic
def agent_chats_hand_back_all(*, scope: Scope, by_user, agent: Agent) -> int:
    """Give every open chat of `agent` back to their division's rotation. Returns how many moved.

    Each chat goes through `conversation_hand_back` (trigger HAND_BACK, the agent skipped this
    time, `conversation.removed` to them, `conversation.assigned` / `.queued` to the new
    holder); an inactive agent's chats go through the supervisor's transfer to the same
    division instead, since hand back is the holder's own act. A chat resolved or moved
    meanwhile is skipped. Locks each conversation row in turn, then its pool.
    """
    _check(scope, agent)
    ids = list(
        Conversation.objects.filter(agent=agent, status=Conversation.Status.OPEN)
        .order_by("opened_at", "pk")
        .values_list("pk", flat=True)
    )
    moved = 0
    for conversation in Conversation.objects.filter(pk__in=ids).order_by("opened_at", "pk"):
        try:
            with transaction.atomic():
                if agent.is_active:
                    conversation_hand_back(conversation=conversation, by_agent=agent)
                else:
                    conversation_transfer_by_user(
                        conversation=conversation,
                        by_user=by_user,
                        to_division=conversation.division,
                    )
        except ValidationError:
            continue  # resolved or moved by someone else in the meantime
        moved += 1
    _log(scope=scope, agent=agent, kind=SupervisorAction.Kind.HAND_BACK_ALL, moved=moved)
    return moved


@transaction.atomic
def agent_away_set(*, scope: Scope, agent: Agent, away: bool) -> str:
    """Switch the agent's away state as their own header switch does (agents.presence publishes
    `presence.changed`); coming back drains their division's queue. Returns the new state.
    Raises agents.presence.PresenceUnavailable (nothing changed) when Redis is down."""
    _check(scope, agent)
    state = presence_set_away(agent_id=agent.pk, away=away)
    kind = SupervisorAction.Kind.SET_AWAY if away else SupervisorAction.Kind.SET_AVAILABLE
    _log(scope=scope, agent=agent, kind=kind)
    if not away:
        transaction.on_commit(lambda: queue_drain(division=agent.division))
    return state


@transaction.atomic
def agent_sessions_end(*, scope: Scope, agent: Agent) -> None:
    """Sign the agent out everywhere: their HTTP sessions stop validating at the next request
    and their open sockets close on commit (`session.ended`). Their token stays valid, so they
    may sign in again; to lock them out, deactivate them or regenerate the token (admin).

    Django ties each session to a hash of the user's password field, and an agent's password is
    unusable: a fresh unusable one changes the hash (as agents.services does on revocation)."""
    _check(scope, agent)
    user = agent.user
    user.set_unusable_password()
    user.save(update_fields=["password"])
    realtime.publish_on_commit(realtime.agent_group(agent.pk), {"type": "session.ended"})
    _log(scope=scope, agent=agent, kind=SupervisorAction.Kind.END_SESSIONS)


@transaction.atomic
def conversation_transfer_by_supervisor(
    *,
    scope: Scope,
    by_user,
    conversation: Conversation,
    to_agent: Agent | None = None,
    to_division=None,
    note: str = "",
) -> Agent | None:
    """`conversation_transfer_by_user`, kept inside the supervisor's divisions: the chat and its
    target (agent or division) must both be in scope."""
    if not scope.allows(conversation.division_id):
        raise PermissionDenied("conversation outside the supervisor's divisions")
    target_division_id = (
        to_agent.division_id if to_agent is not None else getattr(to_division, "pk", None)
    )
    if target_division_id is not None and not scope.allows(target_division_id):
        raise ValidationError(_("You do not supervise that division."), code="out_of_scope")
    return conversation_transfer_by_user(
        conversation=conversation,
        by_user=by_user,
        to_agent=to_agent,
        to_division=to_division,
        note=note,
    )


@transaction.atomic
def supervisor_time_zone_set(*, user, time_zone: str) -> SupervisorScope:
    """The zone the supervisor's board and reports use. A staff user without a scope row gets
    one that keeps their access as it was (every division). Raises ValidationError (nothing
    changed) for a name not in the tz database. Open board sockets pick it up at their next
    render (they re-read the scope)."""
    row, created = SupervisorScope.objects.select_for_update().get_or_create(
        user=user, defaults={"all_divisions": True, "time_zone": time_zone}
    )
    row.time_zone = time_zone
    row.full_clean()
    row.save()
    return row
