from __future__ import annotations

from .models import Agent


def agent_get_by_token_hash(*, token_hash: str) -> Agent | None:
    return (
        Agent.objects.select_related("user", "device", "division")
        .filter(token_hash=token_hash)
        .first()
    )


def agent_get_for_user(*, user) -> Agent | None:
    """The active agent behind a logged-in user, or None (staff without an agent, inactive)."""
    if user is None or not user.is_authenticated:
        return None
    agent = getattr(user, "agent", None)
    if agent is None or not agent.is_active or not user.is_active:
        return None
    return agent
