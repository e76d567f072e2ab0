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


@register.simple_tag
def inbox_preview(conversation) -> str:
    """The inbox row's preview: the customer's words when there are some (stored with the
    conversation), else what the last message was, in the page's language (a location, a poll,
    a vote, a file). One query, only for a row whose last message had no words."""
    if conversation.last_message_preview:
        return conversation.last_message_preview
    last = (
        Message.objects.filter(conversation_id=conversation.pk)
        .exclude(direction=Message.Direction.NOTE)
        .order_by("-created_at", "-id")
        .only(
            "location_lat",
            "poll_name",
            "poll_choices",
            "is_poll_vote",
            "poll_vote_for",
            "attachment_url",
            "attachment_name",
            "attachment_file",
        )
        .first()
    )
    if last is None:
        return gettext("New message")
    if last.location_lat is not None:
        return gettext("Location")
    if last.is_poll_vote or last.poll_vote_for_id:
        return gettext("Poll vote")
    if last.poll_name or last.poll_choices:
        return gettext("Poll")
    if last.attachment_url or last.attachment_name or last.attachment_file:
        return gettext("File")
    return gettext("New message")
