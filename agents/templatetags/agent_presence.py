"""Template access to presence (agents/presence.py)."""

from __future__ import annotations

from django import template

from agents.presence import PresenceUnavailable, presence_is_away

register = template.Library()


@register.simple_tag
def agent_is_away(agent) -> bool | None:
    """True / False, or None when Redis cannot say (the page still renders)."""
    if agent is None:
        return None
    try:
        return presence_is_away(agent_id=agent.pk)
    except PresenceUnavailable:
        return None
