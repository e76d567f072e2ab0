"""Template helpers for inbox search: a hit shows which tab its chat is in."""

from __future__ import annotations

from django import template

from ..models import Conversation
from ..selectors import TAB_LABELS, tab_of

register = template.Library()


@register.filter
def inbox_tab_label(conversation: Conversation) -> str:
    return str(TAB_LABELS[tab_of(conversation)])
