"""Inbound flow: a gateway event → contact, conversation episode, message; delivery status.

Called from the webhook views (and the sandbox's customer page). Everything a message needs is
written in one transaction, so the webhook answers 200 only once the message is durably stored;
pushes go out on commit through `realtime.publisher`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from config.enqueue import enqueue_on_commit
from config.logs import bind_ids
from devices_app.gateways.events import IncomingMessage, StatusUpdate
from devices_app.models import Device
from realtime import publisher as realtime
from rotation.models import AssignmentLog

from ..delivery import is_forward
from ..models import Contact, Conversation, Message
from ..tasks.media import attachment_copy
from .assignment import conversation_assign
from .storable import incoming_storable

logger = logging.getLogger(__name__)

# Gateways retry an unanswered webhook (Fonnte, the most persistent: 15 times, a minute
# apart): a body without any id or timestamp that repeats inside this window is a retry.
RETRY_WINDOW = timedelta(minutes=16)


def dedupe_key_for(event: IncomingMessage) -> str:
    """The key that makes a retried webhook store nothing new (docs/ARCHITECTURE.md "Flows").

    The gateway's own message id when it gives one (`IncomingMessage.message_id`); else a
    hash of the content *with* its timestamp (two identical texts sent a second apart differ);
    else a content hash, which `message_receive` only treats as a duplicate inside the retry
    window.
    """
    if event.message_id:
        # "inbox:" since the first gateway's id was Fonnte's inbox id: stored keys stay valid.
        key = f"inbox:{event.message_id}"
        if len(key) <= Message._meta.get_field("dedupe_key").max_length:
            return key
        # An id longer than the column (a 75-digit "inboxid" string, say) is kept as its hash:
        # still one key per id, and never a 500 that makes the gateway retry and then give up.
        return "inbox#" + hashlib.sha256(event.message_id.encode()).hexdigest()
    content = json.dumps(
        [
            event.sender,
            event.author,
            event.text,
            event.kind,
            event.attachment_url,
            event.attachment_name,
            [str(part) for part in event.location] if event.location else None,
            event.poll_name,
            list(event.poll_choices),
            event.is_self,
        ],
        ensure_ascii=False,
    )
    if event.timestamp is not None:
        stamped = f"{content}|{int(event.timestamp.timestamp())}"
        return "ts:" + hashlib.sha256(stamped.encode()).hexdigest()
    return "c:" + hashlib.sha256(content.encode()).hexdigest()[:48]


def _preview(message: Message) -> str:
    """Customer words only: the list renders a translated label for the rest (a location…)."""
    if message.text:
        return message.text[:160]
    if (
        message.is_poll_vote
        or message.poll_vote_for_id
        or message.poll_choices
        and not message.poll_name
    ):
        return ", ".join(message.poll_choices)[:160]
    return (message.poll_name or message.attachment_name)[:160]


def _find_poll(*, conversation: Conversation, poll_name: str) -> Message | None:
    """The poll Sapa sent in this chat (this episode or an earlier one) that a vote answers."""
    return (
        Message.objects.filter(
            conversation__contact_id=conversation.contact_id,
            direction=Message.Direction.OUT,
            poll_name=poll_name,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _bucket(moment) -> int:
    return int(moment.timestamp() // RETRY_WINDOW.total_seconds())


def _existing_duplicate(*, device: Device, key: str) -> Message | None:
    if key.startswith("c:"):
        # Content-only keys are stored with the retry-window bucket they arrived in (see
        # `_stored_key`): a retry lands in the same bucket or the next, so two exact index
        # lookups find it; the time filter keeps a genuine repeat from merging.
        now = timezone.now()
        bucket = _bucket(now)
        return (
            Message.objects.filter(
                device=device,
                dedupe_key__in=[f"{key}:{bucket}", f"{key}:{bucket - 1}"],
                created_at__gte=now - RETRY_WINDOW,
            )
            .order_by("-created_at")
            .first()
        )
    return Message.objects.filter(device=device, dedupe_key=key).first()


def _stored_key(key: str) -> str:
    if key.startswith("c:"):
        # Two messages in one bucket are less than the retry window apart, so a unique
        # conflict there is always a retry racing the original.
        return f"{key}:{_bucket(timezone.now())}"
    return key


def _contact_for(*, device: Device, event: IncomingMessage) -> tuple[Contact, bool]:
    """The sender's contact, locked for the rest of the transaction, and whether it is new.

    One query for a known contact: the lookup itself takes the row lock (`SELECT … FOR UPDATE`
    on PostgreSQL; SQLite's IMMEDIATE transaction already serializes writers). A contact
    inserted here is invisible to other transactions until commit, so it needs no lock.
    """
    contact, created = Contact.objects.select_for_update().get_or_create(
        device=device,
        address=event.sender,
        defaults={
            "name": "" if event.is_group or event.is_self else event.sender_name,
            "is_group": event.is_group,
        },
    )
    # In a group the display name is the member's, not the group's; on the business phone's
    # own messages ("quick") it is the business's.
    if (
        not created
        and not event.is_group
        and not event.is_self
        and event.sender_name
        and contact.name != event.sender_name
    ):
        contact.name = event.sender_name
        contact.save(update_fields=["name"])
    return contact, created


def message_receive(*, device: Device, event: IncomingMessage) -> Message:
    """Store one incoming message idempotently; assign or queue a new episode; push on commit.

    One transaction writes the contact, episode, message, assignment and counters, so the
    webhook answers 200 only once all of it is committed. Idempotent: a retried webhook (same
    dedupe key) returns the stored message and changes nothing. Locks: the contact row
    (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's IMMEDIATE transaction serializes writers),
    so messages of one contact find or open exactly one episode; the unique (device,
    dedupe_key) constraint settles a race between two deliveries of the same message (caught
    inside a savepoint). On commit: `message.created` to the assigned agent's group, or to the
    division queue group while nobody has it. Raises EventRefused, before writing anything,
    for an event that cannot be stored (`chats.services.storable`).
    """
    bind_ids(device_id=device.pk)
    event = incoming_storable(event)
    key = dedupe_key_for(event)
    # Fonnte retries up to 15 times: answer a retry from a plain read, before the write
    # transaction (on SQLite, BEGIN IMMEDIATE takes the database's single write lock).
    duplicate = _existing_duplicate(device=device, key=key)
    if duplicate is not None:
        _log_duplicate(duplicate)
        return duplicate
    return _message_store(device=device, event=event, key=key)


def _log_duplicate(message: Message) -> None:
    bind_ids(conversation_id=message.conversation_id, message_id=message.pk)
    logger.info("message %s delivered again by the gateway: kept once", message.pk)


@transaction.atomic
def _message_store(*, device: Device, event: IncomingMessage, key: str) -> Message:
    contact, new_contact = _contact_for(device=device, event=event)
    # A contact created just now has no messages and no conversations, committed or not (a
    # concurrent delivery of the same message would have had to create it first): the
    # re-check and the lookups below only matter for a contact that already existed.
    conversation = None
    if not new_contact:
        # Re-check under the lock: a concurrent delivery of this message may have just
        # committed.
        duplicate = _existing_duplicate(device=device, key=key)
        if duplicate is not None:
            _log_duplicate(duplicate)
            return duplicate
        conversation = (
            Conversation.objects.select_related("division")
            .exclude(status=Conversation.Status.RESOLVED)
            .filter(contact=contact)
            .first()
        )
    opened = conversation is None
    if opened:
        conversation = Conversation.objects.create(
            contact=contact, device=device, division=device.division
        )

    now = timezone.now()
    message = Message(
        conversation=conversation,
        device=device,
        direction=Message.Direction.OUT if event.is_self else Message.Direction.IN,
        status=Message.Status.SENT if event.is_self else Message.Status.RECEIVED,
        text=event.text,
        author_address=event.author,
        author_name=event.sender_name if event.is_group else "",
        attachment_url=event.attachment_url,
        attachment_name=event.attachment_name,
        attachment_extension=event.attachment_extension,
        location_lat=event.location[0] if event.location else None,
        location_lng=event.location[1] if event.location else None,
        poll_name=event.poll_name,
        poll_choices=list(event.poll_choices),
        is_poll_vote=event.is_poll_vote,
        is_forwarded=event.is_forwarded,
        gateway_inbox_id=event.inbox_id,
        dedupe_key=_stored_key(key),
        gateway_timestamp=event.timestamp,
        sent_at=now if event.is_self else None,
        raw=event.raw,
    )
    if event.poll_name and not event.is_self:
        # A vote names the poll it answers; Fonnte does not say whether a body is a poll or a
        # vote, so one that matches a poll Sapa sent to this chat is a vote on it.
        message.poll_vote_for = _find_poll(conversation=conversation, poll_name=event.poll_name)
        message.is_poll_vote = message.is_poll_vote or message.poll_vote_for is not None
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        duplicate = _existing_duplicate(device=device, key=key)
        if duplicate is None:
            raise
        _log_duplicate(duplicate)
        return duplicate
    bind_ids(conversation_id=conversation.pk, message_id=message.pk)
    logger.info(
        "message %s received in conversation %s%s",
        message.pk,
        conversation.pk,
        " (new chat)" if opened else "",
    )

    new_chat = False
    # A new episode goes through rotation; one already waiting in the queue keeps its place
    # (the queue drains oldest-first when someone becomes eligible).
    waiting = conversation.status == Conversation.Status.QUEUED
    if conversation.agent_id is None and (opened or not waiting):
        returning = (
            opened
            and not new_contact
            and contact.conversations.filter(status=Conversation.Status.RESOLVED).exists()
        )
        trigger = AssignmentLog.Trigger.RETURNING if returning else AssignmentLog.Trigger.NEW_CHAT
        # The message.created push below announces the new chat to its agent (or the queue).
        # conversation_assign updates `conversation` in place (agent, status, assigned_at).
        conversation_assign(
            conversation=conversation,
            trigger=trigger,
            announce=False,
            inserted_here=opened,
            first_contact=new_contact,
        )
        new_chat = True

    updates = {"last_activity_at": now, "last_message_preview": _preview(message)}
    if message.direction == Message.Direction.IN:
        updates["unread_count"] = F("unread_count") + 1
    Conversation.objects.filter(pk=conversation.pk).update(**updates)

    realtime.message_created_on_commit(
        conversation_id=conversation.pk,
        message_id=message.pk,
        agent_id=conversation.agent_id,
        division_id=conversation.division_id,
        new_chat=new_chat,
    )
    if message.poll_vote_for_id:
        # The poll's tally changed: its bubble re-renders for whoever sees this chat now.
        realtime.message_updated_on_commit(
            conversation_id=message.poll_vote_for.conversation_id,
            message_id=message.poll_vote_for_id,
            agent_id=conversation.agent_id,
            division_id=conversation.division_id,
        )
    if message.direction == Message.Direction.IN and message.attachment_url:
        # Fonnte keeps an incoming file ~30 minutes: copy it into private storage at once. With
        # Redis down the message is still stored (and answered 200); the copy sweep enqueues it.
        enqueue_on_commit(attachment_copy, message.pk)
    return message


# The adapters' normalized delivery words (devices_app.gateways.base.DELIVERY_*) are the
# outbound statuses they prove.
DELIVERY_STATUS = {
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.READ,
    "failed": Message.Status.FAILED,
}


@transaction.atomic
def message_status_apply(*, device: Device, event: StatusUpdate) -> Message | None:
    """Apply a delivery update to the outbound message it names; None when none matches.

    Three patterns (Fonnte's, the richest; docs/ARCHITECTURE.md "Flows"): message id + state
    id (remember the state id), message id only, state id only. Statuses move forward only
    (`chats.delivery.is_forward`), so a late or repeated update changes nothing and pushes
    nothing. Locks the message row.
    On commit: `message.status_changed` to whoever sees the conversation.
    """
    bind_ids(device_id=device.pk)
    rows = Message.objects.select_for_update().filter(
        device=device, direction=Message.Direction.OUT
    )
    if event.message_id:
        message = rows.filter(gateway_message_id=event.message_id).order_by("-id").first()
    else:
        message = rows.filter(gateway_state_id=event.state_id).order_by("-id").first()
    if message is None:
        logger.info(
            "status update for no known message ignored (id %r, state id %r)",
            event.message_id,
            event.state_id,
        )
        return None
    bind_ids(conversation_id=message.conversation_id, message_id=message.pk)

    changed: list[str] = []
    if event.message_id and event.state_id and message.gateway_state_id != event.state_id:
        message.gateway_state_id = event.state_id
        changed.append("gateway_state_id")
    new_status = DELIVERY_STATUS.get(event.delivery)
    if new_status and is_forward(message.status, new_status):
        now = timezone.now()
        message.status = new_status
        changed.append("status")
        if new_status == Message.Status.FAILED:
            message.failure_reason = (event.failure_reason or event.status or event.state)[:255]
            changed.append("failure_reason")
        else:
            message.failure_reason = ""
            changed.append("failure_reason")
        if new_status != Message.Status.FAILED:
            # A read message was also delivered and sent, even when those updates never came.
            for status, stamp in (
                (Message.Status.SENT, "sent_at"),
                (Message.Status.DELIVERED, "delivered_at"),
                (Message.Status.READ, "read_at"),
            ):
                reached = status == new_status or is_forward(status, new_status)
                if reached and getattr(message, stamp) is None:
                    setattr(message, stamp, now)
                    changed.append(stamp)
    if not changed:
        return message
    message.save(update_fields=changed)
    if "status" in changed:
        logger.info("message %s %s", message.pk, message.status)
        conversation = message.conversation
        realtime.message_status_changed_on_commit(
            conversation_id=conversation.pk,
            message_id=message.pk,
            status=message.status,
            agent_id=conversation.agent_id,
            division_id=conversation.division_id,
        )
    return message
