"""An agent starts a chat with a number (the workspace's "New chat")."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent
from devices_app.phone import InvalidNumber, display_number, normalize_number
from realtime import publisher as realtime
from rotation.models import AssignmentLog, LogNote, RotationState
from rotation.services import Member, division_pool, rotation_log

from ..models import Contact, Conversation
from .outbound import message_reply_create, reply_text_clean

CONTACT_NAME_MAX_LENGTH = 120  # Contact.name


def _contact_get_or_create(*, device_id: int, address: str) -> Contact:
    try:
        # A savepoint: a webhook from the same number may create the contact at this moment.
        with transaction.atomic():
            contact, _created = Contact.objects.get_or_create(device_id=device_id, address=address)
    except IntegrityError:
        contact = Contact.objects.get(device_id=device_id, address=address)
    return contact


def _contact_name_clean(name: str | None) -> str:
    name = " ".join((name or "").split())
    if len(name) > CONTACT_NAME_MAX_LENGTH or any(ord(char) < 32 for char in name):
        raise ValidationError(
            _("The name must be at most %(max)d characters of text.")
            % {"max": CONTACT_NAME_MAX_LENGTH},
            code="invalid_name",
        )
    return name


def _log_started(*, conversation: Conversation, agent: Agent, from_queue: bool) -> None:
    # No rotation turn is used: the agent chose the chat. TAKE is the closest trigger; the
    # notes say it was started from "New chat", and whether it was taken up from the queue
    # (rotation.selectors.assignment_log_explain words the two differently).
    rotation_log(
        pool=division_pool(agent.division_id),
        mode=agent.division.rotation_mode,
        cycle=(
            RotationState.objects.filter(pool=division_pool(agent.division_id))
            .values_list("cycle", flat=True)
            .first()
        )
        or 0,
        trigger=AssignmentLog.Trigger.TAKE,
        candidates=[Member(id=agent.pk, label=agent.name)],
        member_id=agent.pk,
        conversation=conversation,
        notes=[LogNote.STARTED_BY_AGENT] + ([LogNote.FROM_QUEUE] if from_queue else []),
    )


@transaction.atomic
def conversation_start(
    *, agent: Agent, number: str, text: str | None = None, name: str = ""
) -> Conversation:
    """Open a chat with `number` on the agent's own device, optionally sending `text` first.

    `number` may be local (0812…) or international (+62 812…, 62812…); it is normalized with
    `devices_app.phone.normalize_number`. The contact is found or created on the agent's
    device. Then:
    - an unresolved conversation with this contact assigned to the agent is returned as is;
    - one waiting in the agent's division's queue is taken by the agent;
    - one with another agent, or queued in another division, is refused (ValidationError
      `in_use`, naming who has it): two agents must not write to one customer at once;
    - otherwise a new episode opens, assigned to the agent (`open`), division = the agent's.
    Both of the last two write an AssignmentLog row (trigger TAKE, note `started_by_agent`).
    `text` goes out through the normal send path (`message_reply_create`). `name` (optional,
    up to 120 characters) names the contact, so the list shows it until the customer's own
    WhatsApp name arrives with their first message.

    Permission: an active agent. Errors (inactive agent, invalid number, the device's own
    number, text too long, chat in use) raise ValidationError and change nothing. Locks the
    contact row, as the inbound flow does, so a webhook from the same number at this moment
    cannot open a second episode. On commit: `conversation.updated` to the agent (the row
    appears without a new-chat alert: they started it), `conversation.taken` to the queue when
    taken from it, and the first message's pushes. Idempotent without `text`: calling again
    returns the same conversation.
    """
    if not agent.is_active:
        raise ValidationError(_("Your agent account is inactive."), code="agent_inactive")
    try:
        address = normalize_number(number)
    except InvalidNumber as exc:
        raise ValidationError(
            _(
                "“%(number)s” is not a phone number we can write to. Write it with its country "
                "code (+62 812-3456-7890) or as a local number starting with 0."
            )
            % {"number": (number or "").strip()[:40]},
            code="invalid_number",
        ) from exc
    text = reply_text_clean(text, required=False)
    name = _contact_name_clean(name)
    agent = Agent.objects.select_related("device", "division").get(pk=agent.pk)
    device = agent.device
    if address == device.number:
        raise ValidationError(_("That is the number of your own device."), code="own_number")

    contact = _contact_get_or_create(device_id=device.pk, address=address)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if name and name != contact.name and not contact.is_group:
        contact.name = name
        contact.save(update_fields=["name"])
    conversation = (
        Conversation.objects.select_for_update()
        .exclude(status=Conversation.Status.RESOLVED)
        .filter(contact=contact)
        .first()
    )
    if conversation is not None and conversation.agent_id == agent.pk:
        pass
    elif conversation is not None and (
        conversation.agent_id is not None or conversation.division_id != agent.division_id
    ):
        who = (
            conversation.agent.name if conversation.agent_id else _("the queue of another division")
        )
        raise ValidationError(
            _("%(contact)s is already being served by %(who)s.")
            % {"contact": display_number(address), "who": who},
            code="in_use",
        )
    elif conversation is not None:
        # Waiting in the agent's own queue: they take it up.
        conversation.agent = agent
        conversation.status = Conversation.Status.OPEN
        conversation.assigned_at = timezone.now()
        conversation.save(update_fields=["agent", "status", "assigned_at"])
        _log_started(conversation=conversation, agent=agent, from_queue=True)
        taken: realtime.ConversationTaken = {
            "type": "conversation.taken",
            "conversation_id": conversation.pk,
            "agent_id": agent.pk,
        }
        realtime.publish_on_commit(
            realtime.division_queue_group(conversation.division_id), dict(taken)
        )
    else:
        now = timezone.now()
        conversation = Conversation.objects.create(
            contact=contact,
            device=device,
            division=agent.division,
            agent=agent,
            status=Conversation.Status.OPEN,
            assigned_at=now,
        )
        _log_started(conversation=conversation, agent=agent, from_queue=False)

    realtime.conversation_updated_on_commit(
        conversation_id=conversation.pk, agent_id=agent.pk, division_id=conversation.division_id
    )
    if text:
        message_reply_create(conversation=conversation, agent=agent, text=text)
    return conversation
