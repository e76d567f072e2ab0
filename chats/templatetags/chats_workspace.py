"""Template helpers for the agent workspace."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from templates_app.selectors import poll_tally

from ..models import Message
from ..services.outbound import message_reason_display

register = template.Library()


@register.filter
def reason(message: Message) -> str:
    """Why an outbound message waits, failed or may not have been sent, in the current language."""
    return message_reason_display(message=message)


@register.filter
def day_label(value) -> str:
    """ "Today", "Yesterday" or the date, in the current time zone (day separators)."""
    day = timezone.localtime(value).date()
    today = timezone.localdate()
    if day == today:
        return gettext("Today")
    if (today - day).days == 1:
        return gettext("Yesterday")
    return date_format(day, "DATE_FORMAT")


@register.simple_tag
def poll_results(message: Message) -> list:
    """Choices of a poll Sapa sent, with their live vote counts (latest vote per voter)."""
    return poll_tally(poll_message=message)
