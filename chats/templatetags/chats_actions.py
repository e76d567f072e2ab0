"""Template helpers for the conversation actions (labels, transfer)."""

from __future__ import annotations

from django import template

from ..models import Conversation, Label
from ..selectors import label_list, labels_for_conversations

register = template.Library()


@register.simple_tag
def labels_of(conversation: Conversation) -> list[Label]:
    """The conversation's labels by name: from the inbox page's one bulk read when the row came
    from `conversation_page_for_agent`, else one query (a pushed row, the side panel)."""
    known = getattr(conversation, "inbox_labels", None)
    if known is not None:
        return known
    return labels_for_conversations(conversation_ids=[conversation.pk]).get(conversation.pk, [])


@register.simple_tag
def label_choices() -> list[Label]:
    """Every label, for the label picker in the side panel."""
    return list(label_list())
