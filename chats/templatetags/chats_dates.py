"""Every date and time the workspace shows, in the agent's time zone (activated per request by
agents.middleware, per push by chats.live) and in the formats of the page's language
(config/formats/): the same words in a view and in a socket push."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format

register = template.Library()


def _local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.filter
def datetime_label(value: datetime | None) -> str:
    """ "2 Dec 2026, 18:43" / "2 Des 2026, 18.43"."""
    local = _local(value)
    return date_format(local, "DATETIME_FORMAT") if local else ""


@register.filter
def date_label(value: datetime | None) -> str:
    """ "2 Dec 2026" / "2 Des 2026"."""
    local = _local(value)
    return date_format(local, "DATE_FORMAT") if local else ""


@register.filter
def time_label(value: datetime | None) -> str:
    """ "18:43" / "18.43"."""
    local = _local(value)
    return date_format(local, "TIME_FORMAT") if local else ""


@register.filter
def recent_label(value: datetime | None) -> str:
    """For the inbox list: the time today, the day and month this year, else the date."""
    local = _local(value)
    if local is None:
        return ""
    today = timezone.localdate()
    if local.date() == today:
        return date_format(local, "TIME_FORMAT")
    if local.year == today.year:
        return date_format(local, "MONTH_DAY_FORMAT")
    return date_format(local, "DATE_FORMAT")


@register.filter
def local_day(value: datetime | None) -> str:
    """The day in the agent's time zone, as data ("2026-12-02") for day separators."""
    local = _local(value)
    return local.strftime("%Y-%m-%d") if local else ""
