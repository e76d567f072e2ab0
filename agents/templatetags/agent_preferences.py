"""Template access to the agent's workspace preferences (the header's menu)."""

from __future__ import annotations

from django import template

from agents.forms import TimeZoneForm

register = template.Library()


@register.simple_tag
def time_zone_form(agent) -> TimeZoneForm | None:
    """The header's short time-zone form showing the agent's zone; ids prefixed so it never
    clashes with the preferences page's own form."""
    if agent is None:
        return None
    return TimeZoneForm(initial={"time_zone": agent.time_zone}, auto_id="prefs-%s", short=True)
