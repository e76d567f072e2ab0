"""What an agent's open sockets depend on, and noticing when it changes, whatever the path.

A socket is granted at connect: the agent is active, their user is active, their token is the one
the session was opened with, and they sit in a division and a device (the groups it joined) and
a time zone (how it renders). Access ends when the agent or the user is deactivated, the agent is
deleted or the token regenerated: the agent's sockets close for good, their presence ends at once
and their HTTP sessions stop validating (`agents.services.agent_access_end`). A move (division,
device, time zone) only makes the sockets reconnect to the right groups
(`agents.services.agent_sockets_regroup`). Rotation and transfer targets read access from the
database (`Agent.objects.with_access()`), so they are right the moment the change commits.

Why model signals, against the habit of keeping logic out of them: every path must end the
sockets, and there are many (the agent and user admins' change forms, list actions and deletes,
services, a cascade from a deleted user, the shell). The receivers here only detect the change
and call the one service. Queryset updates of agents send no signals: `AgentQuerySet.update`
calls `access_compare` itself. What no Python code sees (SQL by hand, a queryset update of
users) the socket notices by itself: `AgentConsumer` re-reads `access_read` every
`AGENT_ACCESS_RECHECK_SECONDS` (docs/RELIABILITY.md, "Presence and revocation").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from .models import WATCHED_FIELDS, Agent, User


@dataclass(frozen=True)
class Access:
    agent_id: int
    user_id: int
    active: bool  # the agent and their user are both active
    token_hash: str
    division_id: int
    device_id: int
    time_zone: str


Verdict = Literal["kept", "moved", "revoked"]


def access_of(agent: Agent) -> Access:
    """The access an agent instance shows (its user must be loaded: one query otherwise)."""
    return Access(
        agent_id=agent.pk,
        user_id=agent.user_id,
        active=agent.has_access,
        token_hash=agent.token_hash,
        division_id=agent.division_id,
        device_id=agent.device_id,
        time_zone=agent.time_zone,
    )


def access_read(*, agent_ids: Iterable[int]) -> dict[int, Access]:
    """The access of each agent as the database has it now, in one query; deleted agents are
    missing from the result."""
    ids = list(agent_ids)
    if not ids:
        return {}
    rows = Agent.objects.filter(pk__in=ids).values_list(
        "pk",
        "user_id",
        "is_active",
        "user__is_active",
        "token_hash",
        "division_id",
        "device_id",
        "time_zone",
    )
    return {
        pk: Access(pk, user_id, active and user_active, token, division, device, zone)
        for pk, user_id, active, user_active, token, division, device, zone in rows
    }


def access_verdict(*, before: Access, now: Access | None) -> Verdict:
    """What a change means to a socket opened with `before`."""
    if now is None or not now.active or now.token_hash != before.token_hash:
        return "revoked"
    if (now.division_id, now.device_id, now.time_zone) != (
        before.division_id,
        before.device_id,
        before.time_zone,
    ):
        return "moved"
    return "kept"


def access_compare(*, before: dict[int, Access], after: dict[int, Access]) -> None:
    """Act on the change between two readings: end access or regroup, on commit."""
    from .services import agent_access_end, agent_sockets_regroup

    for agent_id, old in before.items():
        verdict = access_verdict(before=old, now=after.get(agent_id))
        if verdict == "revoked" and (old.active or agent_id not in after):
            agent_access_end(agent_id=agent_id, user_id=old.user_id)
        elif verdict == "moved":
            agent_sockets_regroup(agent_id=agent_id)


# --- Receivers: every save and delete of agents and users, whoever makes it ------------------


def _touches(update_fields, fields: set[str]) -> bool:
    return update_fields is None or bool({f.removesuffix("_id") for f in update_fields} & fields)


@receiver(pre_save, sender=Agent, dispatch_uid="agents.access.agent_pre_save")
def _agent_pre_save(sender, instance: Agent, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None or not _touches(update_fields, WATCHED_FIELDS):
        return
    instance._access_before = access_read(agent_ids=[instance.pk])


@receiver(post_save, sender=Agent, dispatch_uid="agents.access.agent_post_save")
def _agent_post_save(sender, instance: Agent, raw=False, **kwargs):
    before = instance.__dict__.pop("_access_before", None)
    if before:
        access_compare(before=before, after=access_read(agent_ids=before))


@receiver(pre_save, sender=User, dispatch_uid="agents.access.user_pre_save")
def _user_pre_save(sender, instance: User, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None or not _touches(update_fields, {"is_active"}):
        return
    ids = Agent.objects.filter(user_id=instance.pk).values_list("pk", flat=True)
    instance._access_before = access_read(agent_ids=ids)


@receiver(post_save, sender=User, dispatch_uid="agents.access.user_post_save")
def _user_post_save(sender, instance: User, raw=False, **kwargs):
    before = instance.__dict__.pop("_access_before", None)
    if before:
        access_compare(before=before, after=access_read(agent_ids=before))


@receiver(post_delete, sender=Agent, dispatch_uid="agents.access.agent_post_delete")
def _agent_post_delete(sender, instance: Agent, **kwargs):
    # Also sent for an agent deleted along with their user (a cascade).
    from .services import agent_access_end

    agent_access_end(agent_id=instance.pk, user_id=instance.user_id)
