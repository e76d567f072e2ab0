from __future__ import annotations

from django import template

from agents.timezones import time_zone_choices_short

register = template.Library()


@register.simple_tag
def supervisor_time_zones(current: str) -> list[tuple[str, str]]:
    """Indonesia's zones and the supervisor's own, for the header's select."""
    return [pair for _group, pairs in time_zone_choices_short(current=current) for pair in pairs]
