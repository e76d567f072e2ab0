from __future__ import annotations

from .selectors import agent_get_for_user


def current_agent(request) -> dict:
    agent = getattr(request, "agent", None)
    if agent is None and hasattr(request, "user"):
        agent = agent_get_for_user(user=request.user)
    return {"current_agent": agent}
