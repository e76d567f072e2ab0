"""Labels on conversations. Admins keep the list of labels (Django admin); agents put them on
the conversations they handle."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agents.models import Agent
from realtime import publisher as realtime

from ..models import Conversation, Label


@transaction.atomic
def conversation_labels_set(
    *, conversation: Conversation, agent: Agent, labels: Iterable[Label | int]
) -> list[Label]:
    """Replace the conversation's labels with `labels` (Label rows or ids; repeats ignored;
    an empty list clears them). Returns the labels now set, by name.

    Permission: an active agent on a conversation assigned to them (any status: a resolved
    episode may still be labelled for the reports). Unknown label ids raise ValidationError and
    change nothing. Locks the conversation row, so a transfer committing at the same moment
    cannot be crossed. Idempotent: setting the same labels again changes nothing and pushes
    nothing. On commit (when something changed): `conversation.updated` to whoever sees it.
    """
    ids = {label.pk if isinstance(label, Label) else int(label) for label in labels}
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if not agent.is_active:
        raise ValidationError(_("Your agent account is inactive."), code="agent_inactive")
    if conversation.agent_id != agent.pk:
        raise ValidationError(_("This conversation is not assigned to you."), code="not_assigned")
    found = list(Label.objects.filter(pk__in=ids).order_by("name"))
    if len(found) != len(ids):
        raise ValidationError(_("That label no longer exists."), code="unknown_label")
    current = set(conversation.labels.values_list("pk", flat=True))
    if current != ids:
        conversation.labels.set(found)
        realtime.conversation_updated_on_commit(
            conversation_id=conversation.pk,
            agent_id=conversation.agent_id,
            division_id=conversation.division_id,
        )
    return found
