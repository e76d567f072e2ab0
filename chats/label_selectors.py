"""Reads for labels. Kept apart from `chats.selectors` (the workspace's module) so the two can
be built side by side; merge them when convenient."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Conversation, Label


def label_list() -> QuerySet[Label]:
    """Every label, by name: what the label picker and the filter offer."""
    return Label.objects.order_by("name", "pk")


def conversations_filter_by_label(
    qs: QuerySet[Conversation], label: Label | int | None
) -> QuerySet[Conversation]:
    """Narrow an already permission-scoped conversation queryset (e.g.
    `conversation_list_for_agent(agent=…)`) to those carrying `label`; None leaves it as is.
    Keeps the queryset's ordering; no duplicates (one row per conversation and label).

    A sliced queryset (the inbox keeps its newest INBOX_LIMIT rows) is filtered before its slice
    and sliced again, so the result is the newest labelled chats, not the labelled ones among
    the newest."""
    if label is None:
        return qs
    label_id = label.pk if isinstance(label, Label) else int(label)
    if qs.query.is_sliced:
        low, high = qs.query.low_mark, qs.query.high_mark
        unsliced = qs.all()
        unsliced.query.clear_limits()
        return unsliced.filter(labels__id=label_id)[low:high]
    return qs.filter(labels__id=label_id)


def labels_for_conversations(*, conversation_ids: list[int]) -> dict[int, list[Label]]:
    """The labels of many conversations in one query, for an inbox list: {conversation id:
    [labels by name]} (conversations without labels are absent)."""
    through = Conversation.labels.through
    rows = (
        through.objects.filter(conversation_id__in=conversation_ids)
        .select_related("label")
        .order_by("label__name", "label_id")
    )
    result: dict[int, list[Label]] = {}
    for row in rows:
        result.setdefault(row.conversation_id, []).append(row.label)
    return result
