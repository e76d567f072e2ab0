"""Writes for agents. Each returns what the caller must show once (a new token)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password
from django.db import transaction
from django.utils import timezone

from realtime import publisher as realtime

from .models import Agent, User
from .presence import PresenceUnavailable, presence_forget
from .timezones import validate_time_zone
from .tokens import token_generate, token_hash

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentWithToken:
    agent: Agent
    token: str


def _username_for(name: str) -> str:
    from django.utils.crypto import get_random_string
    from django.utils.text import slugify

    return f"agent-{slugify(name)[:20] or 'x'}-{get_random_string(6).lower()}"


@transaction.atomic
def agent_create(
    *,
    name: str,
    device,
    division,
    max_open_chats: int | None = None,
    token: str | None = None,
    time_zone: str | None = None,
) -> AgentWithToken:
    """Create an agent and its user. Returns the clear token: it is never stored or shown again.

    `token` is only for demo data, which needs fixed, printable logins. `time_zone` defaults to
    the desk's (settings.TIME_ZONE); an unknown name raises ValidationError.
    """
    token = token or token_generate()
    user = User(username=_username_for(name), first_name=name[:150])
    user.set_unusable_password()
    user.full_clean()
    user.save()
    agent = Agent(
        user=user,
        name=name,
        device=device,
        division=division,
        max_open_chats=max_open_chats,
        token_hash=token_hash(token),
        token_hint=token[-4:],
        token_created_at=timezone.now(),
    )
    if time_zone:
        agent.time_zone = time_zone
    agent.full_clean()
    agent.save()
    return AgentWithToken(agent=agent, token=token)


def agent_access_end(*, agent_id: int, user_id: int | None) -> None:
    """The one way an agent's access ends (deactivated agent or user, deleted agent, new
    token): called by agents.access for every path that revokes it. Idempotent.

    - HTTP: Django ties each session to a hash of the user's password field; an agent's password
      is unusable, and a fresh unusable one changes that hash, so every session of the user
      stops validating at its next request (and a later reactivation does not revive them).
    - Sockets: `session.ended` to the agent's group on commit; the consumer ends its presence at
      once (no grace period) and closes with 4401, which the page does not reconnect after.
    - Presence: every connection key of the agent is dropped on commit, so online-only
      rotation stops counting them even before the socket has closed.
    Rotation and transfer targets need nothing more: they select `Agent.objects.with_access()`.
    """
    if user_id is not None:
        # Only a user who signs in as an agent (no usable password): a staff member's own
        # password is not ours to wipe. A queryset update sends no signal back into
        # agents.access.
        User.objects.filter(pk=user_id, password__startswith=UNUSABLE_PASSWORD_PREFIX).update(
            password=make_password(None)
        )
    realtime.publish_on_commit(realtime.agent_group(agent_id), {"type": "session.ended"})
    transaction.on_commit(lambda: _presence_end(agent_id))


def _presence_end(agent_id: int) -> None:
    try:
        presence_forget(agent_id=agent_id)
    except PresenceUnavailable:
        # Redis is away: its keys expire by themselves, and rotation does not pick an agent
        # without access whatever their presence.
        logger.warning("could not end the presence of agent %s", agent_id)


@transaction.atomic
def agent_token_regenerate(*, agent: Agent) -> str:
    """Issue a new token; the agent's sessions and sockets end (agents.access). Returns the clear
    token once."""
    token = token_generate()
    agent.token_hash = token_hash(token)
    agent.token_hint = token[-4:]
    agent.token_created_at = timezone.now()
    agent.save(update_fields=["token_hash", "token_hint", "token_created_at"])
    return token


@transaction.atomic
def agent_set_active(*, agent: Agent, active: bool) -> Agent:
    """Activate or deactivate the agent and their user. Deactivating ends the agent's sessions
    and sockets at once (agents.access)."""
    agent.is_active = active
    agent.save(update_fields=["is_active"])
    agent.user.is_active = active
    agent.user.save(update_fields=["is_active"])
    return agent


def agent_sockets_regroup(*, agent_id: int) -> None:
    """After the agent's division, device or time zone changed (agents.access notices it): their
    open sockets joined the old groups and read the zone at connect, so close them (on commit);
    the page reconnects, joins the right groups and resynchronizes. HTTP needs nothing: each
    request re-reads the agent."""
    realtime.publish_on_commit(realtime.agent_group(agent_id), {"type": "session.regroup"})


# --- Workspace preferences (notifications, time zone) ------------------------------------------
@transaction.atomic
def agent_notifications_set_muted(*, agent: Agent, muted: bool) -> Agent:
    """Mute or unmute the agent's sound and desktop notifications (the tab-title count and the
    unread counters keep working). Pages read the state from the header they render; open tabs
    follow at their next load. Idempotent."""
    agent.notifications_muted = muted
    agent.save(update_fields=["notifications_muted"])
    return agent


@transaction.atomic
def agent_time_zone_set(*, agent: Agent, time_zone: str) -> Agent:
    """Set the zone the workspace shows the agent's dates and times in.

    Raises ValidationError (nothing changed) for a name that is not in the tz database. A change
    closes the agent's open sockets on commit (agents.access): they render pushes in
    the zone read at connect, and reconnecting picks the new one and resynchronizes the page.
    """
    validate_time_zone(time_zone)
    if agent.time_zone == time_zone:
        return agent
    agent.time_zone = time_zone
    agent.save(update_fields=["time_zone"])
    return agent
