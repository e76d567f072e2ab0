"""Internal notes: messages agents leave for each other inside a conversation.

A note is a Message with direction NOTE. It is never sent to the gateway (no send task is ever
enqueued for it, and the send path only claims OUT messages), never counted as unread, and does
not change the inbox preview, which shows what the customer sees. It is pushed like a message,
to whoever sees the conversation.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agents.models import Agent
from realtime import publisher as realtime

from ..models import Conversation, Message

MAX_NOTE_LENGTH = 10_000


def note_text_clean(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Write the note first."), code="empty")
    if len(text) > MAX_NOTE_LENGTH:
        raise ValidationError(
            _("The note is too long (%(length)s characters; at most %(max)s).")
            % {"length": len(text), "max": MAX_NOTE_LENGTH},
            code="too_long",
        )
    return text


def note_store(
    *, conversation: Conversation, text: str, agent: Agent | None = None, author_name: str = ""
) -> Message:
    """Store a note and push it on commit. Checks no permission: for services that already
    did (`note_create`, a transfer's note). `author_name` names a writer who is not an agent
    (a supervisor). Call inside the caller's transaction."""
    message = Message(
        conversation=conversation,
        device_id=conversation.device_id,
        direction=Message.Direction.NOTE,
        text=note_text_clean(text),
        sender_agent=agent,
        author_name=author_name[:120],
    )
    message.full_clean(exclude=["conversation", "device", "sender_agent"])
    message.save()
    realtime.message_created_on_commit(
        conversation_id=conversation.pk,
        message_id=message.pk,
        agent_id=conversation.agent_id,
        division_id=conversation.division_id,
    )
    return message


@transaction.atomic
def note_create(*, conversation: Conversation, agent: Agent, text: str) -> Message:
    """An agent's internal note on a conversation they may see.

    Permission: an active agent, on a conversation assigned to them (resolved included: notes
    are how a colleague learns what happened) or waiting in their division's queue.
    Validates: non-empty text of at most 10,000 characters. Raises ValidationError otherwise and
    writes nothing. Locks the conversation row, so a note cannot land in a chat that a transfer
    committing at the same moment takes away. On commit: `message.created` to whoever sees the
    conversation. Never reaches the gateway. Not idempotent: each call is a new note.
    """
    text = note_text_clean(text)
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if not agent.is_active:
        raise ValidationError(_("Your agent account is inactive."), code="agent_inactive")
    queued_here = (
        conversation.agent_id is None
        and conversation.status == Conversation.Status.QUEUED
        and conversation.division_id == agent.division_id
    )
    if conversation.agent_id != agent.pk and not queued_here:
        raise ValidationError(_("This conversation is not assigned to you."), code="not_assigned")
    return note_store(conversation=conversation, text=text, agent=agent)
