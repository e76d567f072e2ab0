"""Template helpers for the agent workspace."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

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
