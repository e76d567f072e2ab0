"""Agent replies: queued message → send task → gateway → recorded outcome (docs/ARCHITECTURE.md
"Delivery semantics").

The promise to the agent: nothing is lost silently and nothing is sent twice unless a person
chose to. Every reply is stored `queued` first and its send task is enqueued on commit. A task
claims the message with a conditional UPDATE (`queued` → `sending`), so a second run of the
same task (acks_late redelivery, a sweep re-enqueue) finds nothing to do. The gateway takes no
idempotency key, so a request that may have reached it is never repeated automatically: unknown
outcomes become `unconfirmed` and only a person's Retry sends again. Requests that certainly
created nothing (connection refused, the gateway answered an error) are retried with backoff.

Disconnected devices: a reply to a conversation whose device is disconnected stays `queued`
with a visible reason and leaves when the device reconnects (`messages_release_for_device`, or
the sweep). We do not hand it to Fonnte with `connectOnly=false`: Fonnte would hold it for a
day and then expire it silently, the agent would see "sent" for a message nobody received, it
would go out hours later even if the chat had moved on, and ApiWago/wonotify have no such
option. Holding it here keeps the agent's view true and the same for every gateway.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from agents.models import Agent
from config.enqueue import enqueue_on_commit
from config.logs import bind_ids
from devices_app.gateways import registry
from devices_app.gateways.base import (
    Capabilities,
    Outgoing,
    OutgoingPoll,
    SendOutcome,
    SendResult,
)
from devices_app.models import Device
from devices_app.pacing import device_pacing, device_send_slot
from realtime import publisher as realtime
from templates_app.coordinates import decimal_from_text

from ..media import outgoing_attachment_validate, outgoing_file_signed_url
from ..models import Conversation, Message
from .collision import collision_typists

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from templates_app.services import PollSpec, RenderedQuickReply

logger = logging.getLogger(__name__)

S = Message.Status

# The longest text every sending gateway takes (Fonnte: 60,000 characters).
MAX_TEXT_LENGTH = registry.common_limits().max_text_length
PREVIEW_LENGTH = 160

# Why a queued reply waits, and why one failed or is unconfirmed: untranslated message ids kept
# on the row (the worker has no user language), translated by `message_reason_display`.
WAIT_DEVICE_DISCONNECTED = gettext_noop("Waiting: the device is disconnected.")
WAIT_GATEWAY_RETRY = gettext_noop("Waiting: the gateway is unavailable, retrying automatically.")
WAIT_PACING = gettext_noop("Waiting for the device's sending pace.")
WAIT_SYSTEM_RECOVERING = gettext_noop("Queued: will be sent when the system recovers.")
REASON_INTERRUPTED = gettext_noop("Sending was interrupted; the message may have been sent.")
REASON_INTERNAL = gettext_noop("Sending stopped on an internal error.")
REASON_GAVE_UP = gettext_noop("The gateway kept refusing the message")

# Reasons this module writes; the gateways' own (and Sapa's gateway reasons) are put into
# words by the gateway registry.
_OWN_REASONS = {
    WAIT_DEVICE_DISCONNECTED,
    WAIT_GATEWAY_RETRY,
    WAIT_PACING,
    WAIT_SYSTEM_RECOVERING,
    REASON_INTERRUPTED,
    REASON_INTERNAL,
}


def message_reason_display(*, message: Message) -> str:
    """The wait or failure reason of an outbound message, in the current language ("" if none)."""
    if message.status == S.QUEUED:
        reason = message.wait_reason
    elif message.status in (S.FAILED, S.UNCONFIRMED):
        reason = message.failure_reason
    else:
        return ""
    if not reason:
        return ""
    return _reason_text(reason)


def _reason_text(reason: str) -> str:
    if reason in _OWN_REASONS:
        return gettext(reason)
    if registry.reason_is_own(reason):
        return gettext(reason)
    explained = registry.reason_text(reason)
    if explained is not None:
        # The gateway's own word stays visible beside the explanation (support can search it).
        return f"{explained} ({reason})"
    prefix = f"{REASON_GAVE_UP}: "
    if reason.startswith(prefix):
        return f"{gettext(REASON_GAVE_UP)}: {_reason_text(reason[len(prefix) :])}"
    return reason


# --- Creating and retrying replies (called by views) --------------------------------------------


def _check_agent_may_reply(*, conversation: Conversation, agent: Agent) -> None:
    if not agent.is_active:
        raise ValidationError(_("Your agent account is inactive."), code="agent_inactive")
    if conversation.agent_id != agent.pk:
        raise ValidationError(_("This conversation is not assigned to you."), code="not_assigned")
    if conversation.status == Conversation.Status.RESOLVED:
        raise ValidationError(_("This conversation is resolved."), code="resolved")


def _push_status(message: Message, conversation: Conversation) -> None:
    realtime.message_status_changed_on_commit(
        message_id=message.pk,
        conversation_id=conversation.pk,
        status=message.status,
        agent_id=conversation.agent_id,
        division_id=conversation.division_id,
    )


def _enqueue_send_on_commit(message_id: int, *, message: Message | None = None) -> None:
    """Enqueue the send task on commit. When the broker (Redis) is down the reply stays
    `queued`, marked "will be sent when the system recovers" (also on `message`, so the bubble
    the view returns says so), and the sweep enqueues it once Redis is back (config/enqueue.py)."""
    # Imported here: the task module imports this one.
    from ..tasks.sending import send_message

    def broker_down() -> None:
        marked = Message.objects.filter(pk=message_id, status=S.QUEUED).update(
            wait_reason=WAIT_SYSTEM_RECOVERING
        )
        if marked and message is not None:
            message.wait_reason = WAIT_SYSTEM_RECOVERING

    enqueue_on_commit(send_message, message_id, on_failure=broker_down)


def _enqueue_send_later(message_id: int, *, wait: float, booked: bool) -> None:
    """Come back when the paced slot is due. A new task, not `retry`: waiting for a token is
    not a failure and must not use up the retries meant for gateway errors. If the broker is
    down, the row's `next_attempt_at` lets the sweep find it."""
    from ..tasks.sending import send_message

    enqueue_on_commit(send_message, message_id, booked=booked, countdown=max(0.0, round(wait, 3)))


def reply_text_clean(text: str | None, *, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ValidationError(_("Write a message first."), code="empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise ValidationError(
            _("The message is too long (%(length)s characters; at most %(max)s).")
            % {"length": len(text), "max": MAX_TEXT_LENGTH},
            code="too_long",
        )
    return text


# What each kind of reply needs from the device's gateway (docs/ARCHITECTURE.md "Capabilities").
_KIND_NEEDS = {
    "file": ("files", _("This device's gateway cannot send attachments.")),
    "location": ("locations", _("This device's gateway cannot send locations.")),
    "poll": ("polls", _("This device's gateway cannot send polls.")),
}


def _device_capabilities(device_id: int) -> Capabilities:
    # The device row is read, not locked: a reply must not wait on a connection change.
    kind = Device.objects.values_list("gateway", flat=True).get(pk=device_id)
    return registry.gateway_named(kind).capabilities


def _check_gateway_can_carry(
    capabilities: Capabilities, *, kinds: tuple[str, ...], quoted: Message | None
) -> None:
    """Refuse, before anything is stored, a reply the device's gateway cannot carry out: the
    workspace hides such tools, and a stored reply could only fail (a Retry that never works)."""
    if not capabilities.can_send:
        raise ValidationError(gettext(capabilities.cannot_send_reason), code="gateway_cannot_send")
    for kind in kinds:
        capability, message = _KIND_NEEDS.get(kind, ("can_send", ""))
        if not getattr(capabilities, capability):
            raise ValidationError(message, code="gateway_cannot_send")
    if quoted is not None and not capabilities.quotes:
        raise ValidationError(
            _("This device's gateway cannot quote messages."), code="gateway_cannot_send"
        )


def _conversation_lock_for_reply(
    *,
    conversation: Conversation,
    agent: Agent,
    quoted: Message | None,
    kinds: tuple[str, ...] = ("text",),
) -> Conversation:
    conversation = (
        Conversation.objects.select_for_update().select_related("contact").get(pk=conversation.pk)
    )
    _check_agent_may_reply(conversation=conversation, agent=agent)
    _check_gateway_can_carry(
        _device_capabilities(conversation.device_id), kinds=kinds, quoted=quoted
    )
    if (
        quoted is not None
        and not Message.objects.filter(
            pk=quoted.pk, conversation__contact_id=conversation.contact_id
        ).exists()
    ):
        raise ValidationError(_("The quoted message is not part of this chat."), code="bad_quote")
    return conversation


def _typed_over(*, conversation: Conversation, agent: Agent) -> str:
    """Who else was typing in the chat as this reply was stored: the reply is not refused,
    it is marked (chats.services.collision)."""
    names = collision_typists(conversation_id=conversation.pk, exclude_agent_id=agent.pk)
    return ", ".join(names)[: Message._meta.get_field("collided_with").max_length]


def _reply_store(
    *,
    conversation: Conversation,
    agent: Agent,
    quoted: Message | None,
    preview: str,
    **fields,
) -> Message:
    """Save one queued outbound message in a locked, checked conversation; send and push on
    commit. `fields` are the Message fields of its kind (text, attachment, location, poll)."""
    now = timezone.now()
    message = Message(
        conversation=conversation,
        device_id=conversation.device_id,
        direction=Message.Direction.OUT,
        sender_agent=agent,
        quoted=quoted,
        status=S.QUEUED,
        next_attempt_at=now,
        collided_with=_typed_over(conversation=conversation, agent=agent),
        **fields,
    )
    message.full_clean(exclude=["conversation", "device", "sender_agent", "quoted"])
    message.save()

    conversation.last_activity_at = now
    conversation.last_message_preview = " ".join(preview.split())[:PREVIEW_LENGTH]
    update = ["last_activity_at", "last_message_preview"]
    if conversation.first_response_at is None:
        conversation.first_response_at = now
        update.append("first_response_at")
    conversation.save(update_fields=update)

    _enqueue_send_on_commit(message.pk, message=message)
    realtime.message_created_on_commit(
        message_id=message.pk,
        conversation_id=conversation.pk,
        agent_id=conversation.agent_id,
        division_id=conversation.division_id,
    )
    bind_ids(device_id=message.device_id, conversation_id=conversation.pk, message_id=message.pk)
    logger.info("message %s queued by agent %s", message.pk, agent.pk)
    return message


_ATTACHMENT_URL_MAX = Message._meta.get_field("attachment_url").max_length


def _attachment_fields(attachment: UploadedFile | str, *, limits: Capabilities) -> dict:
    """Validate and (for an upload) store an agent's attachment; the Message fields for it.

    An upload is stored privately and reaches the gateway by a signed link made at send time;
    a link is handed to the gateway as it is.
    """
    # Imported here: chats.services.media imports tasks that import this module.
    from .media import outgoing_attachment_store

    if isinstance(attachment, str):
        url = attachment.strip()
        if len(url) > _ATTACHMENT_URL_MAX:
            raise ValidationError(
                _("The link is too long (at most %(max)s characters).")
                % {"max": _ATTACHMENT_URL_MAX},
                code="url_too_long",
            )
        name = outgoing_attachment_validate(url=url, limits=limits)
        return {"attachment_url": url, "attachment_name": name[:255]}
    name = outgoing_attachment_validate(uploaded_file=attachment, limits=limits)
    stored = outgoing_attachment_store(uploaded_file=attachment)
    return {
        "attachment_file": stored,
        "attachment_name": name[:255],
        "attachment_extension": name.rsplit(".", 1)[-1].lower()[:16] if "." in name else "",
        "attachment_state": Message.AttachmentState.STORED,
        "attachment_size": attachment.size,
    }


@transaction.atomic
def message_reply_create(
    *,
    conversation: Conversation,
    agent: Agent,
    text: str = "",
    quoted: Message | None = None,
    attachment: UploadedFile | str | None = None,
) -> Message:
    """Store an agent's reply as a `queued` outbound message and have it sent.

    `attachment` (optional): an uploaded file (at most 4 MB, a type the gateways accept; stored
    privately and given to the gateway as a signed link when it is sent) or an http(s) link to
    a public file. With an attachment the text is its caption and may be empty.

    Validates: text of at most MAX_TEXT_LENGTH characters (the gateways' limit), required without an
    attachment; the attachment (`chats.media.outgoing_attachment_validate`); the conversation
    is assigned to this agent and not resolved; `quoted` belongs to the same contact. Raises
    ValidationError with a clear message otherwise and writes no row (an upload stored before
    a later failure is an orphan that retention removes).

    Locks: the conversation row (SELECT … FOR UPDATE on PostgreSQL), so a transfer or resolve
    committing at the same moment cannot let a reply slip into a chat that is no longer ours.
    On commit: enqueues the send task and pushes `message.created`. Not idempotent: each call
    is a new reply.
    """
    text = reply_text_clean(text, required=attachment is None)
    conversation = _conversation_lock_for_reply(
        conversation=conversation,
        agent=agent,
        quoted=quoted,
        kinds=("file",) if attachment is not None else ("text",),
    )
    fields = {}
    if attachment is not None:
        limits = _device_capabilities(conversation.device_id)
        fields = _attachment_fields(attachment, limits=limits)
    return _reply_store(
        conversation=conversation,
        agent=agent,
        quoted=quoted,
        preview=text or fields.get("attachment_name", ""),
        text=text,
        **fields,
    )


def location_clean(*, latitude, longitude) -> tuple[Decimal, Decimal]:
    """Latitude in [-90, 90] and longitude in [-180, 180], as decimals of 6 places (about
    10 cm, what the message stores), with a decimal point or a decimal comma. Raises
    ValidationError keyed by field."""
    errors: dict[str, ValidationError] = {}
    values: list[Decimal] = []
    for field, value, limit, message in (
        ("latitude", latitude, 90, _("The latitude must be a number from -90 to 90.")),
        ("longitude", longitude, 180, _("The longitude must be a number from -180 to 180.")),
    ):
        # A decimal comma too, as Indonesian agents write numbers ("-6,2088").
        number = decimal_from_text(value)
        if number is None or not -limit <= number <= limit:
            errors[field] = ValidationError(message, code="invalid_location")
            continue
        values.append(number.quantize(Decimal("0.000001")))
    if errors:
        raise ValidationError(errors)
    return values[0], values[1]


@transaction.atomic
def message_location_create(
    *,
    conversation: Conversation,
    agent: Agent,
    latitude: Decimal | float | str,
    longitude: Decimal | float | str,
    quoted: Message | None = None,
) -> Message:
    """Send a location pin. Same rules, lock and on-commit
    effects as `message_reply_create`; the coordinates are checked by `location_clean`."""
    lat, lng = location_clean(latitude=latitude, longitude=longitude)
    conversation = _conversation_lock_for_reply(
        conversation=conversation, agent=agent, quoted=quoted, kinds=("location",)
    )
    # No preview text: the inbox list shows a translated "Location" label for an empty one.
    return _reply_store(
        conversation=conversation,
        agent=agent,
        quoted=quoted,
        preview="",
        location_lat=lat,
        location_lng=lng,
    )


@transaction.atomic
def message_poll_create(
    *,
    conversation: Conversation,
    agent: Agent,
    poll: PollSpec,
    quoted: Message | None = None,
) -> Message:
    """Send a poll built by `templates_app.services.poll_spec_build` / `poll_spec_from_saved`
    (already validated: 2–12 distinct choices without commas). The message keeps the question,
    choices and mode, so the thread shows the poll and votes can be tallied against it.
    Same rules, lock and on-commit effects as `message_reply_create`."""
    conversation = _conversation_lock_for_reply(
        conversation=conversation, agent=agent, quoted=quoted, kinds=("poll",)
    )
    return _reply_store(
        conversation=conversation,
        agent=agent,
        quoted=quoted,
        preview=poll.question,
        poll_name=poll.question,
        poll_choices=list(poll.choices),
        poll_multiple=poll.multiple,
    )


@transaction.atomic
def message_quick_reply_create(
    *,
    conversation: Conversation,
    agent: Agent,
    quick_reply: RenderedQuickReply,
    quoted: Message | None = None,
) -> list[Message]:
    """Send a rendered quick reply (`templates_app.services.quick_reply_render`).

    Its text goes out with its attachment (the text as caption); its location follows as a
    second message, because Fonnte sends a `location` request as a bare pin and would drop the
    text. Returns the messages in sending order (one or two). A template's stored file is
    referenced, not copied (retention never deletes template files), and signed again when
    sent. Same rules, lock and on-commit effects as `message_reply_create`.
    """
    has_attachment = quick_reply.has_attachment
    text = reply_text_clean(
        quick_reply.text, required=not has_attachment and not quick_reply.has_location
    )
    kinds = ("file",) if has_attachment else ("text",)
    conversation = _conversation_lock_for_reply(
        conversation=conversation,
        agent=agent,
        quoted=quoted,
        kinds=kinds + (("location",) if quick_reply.has_location else ()),
    )
    messages = []
    if text or has_attachment:
        fields: dict = {"text": text}
        if quick_reply.attachment_stored_name:
            fields.update(
                attachment_file=quick_reply.attachment_stored_name,
                attachment_name=quick_reply.attachment_name[:255],
                attachment_state=Message.AttachmentState.STORED,
            )
        elif has_attachment:
            if len(quick_reply.attachment_url) > _ATTACHMENT_URL_MAX:
                raise ValidationError(
                    _("The template's attachment link is too long."), code="url_too_long"
                )
            fields.update(
                attachment_url=quick_reply.attachment_url,
                attachment_name=quick_reply.attachment_name[:255],
            )
        messages.append(
            _reply_store(
                conversation=conversation,
                agent=agent,
                quoted=quoted,
                preview=text or quick_reply.attachment_name,
                **fields,
            )
        )
    if quick_reply.has_location:
        lat, lng = location_clean(
            latitude=quick_reply.location_lat, longitude=quick_reply.location_lng
        )
        messages.append(
            _reply_store(
                conversation=conversation,
                agent=agent,
                quoted=None if messages else quoted,
                preview=text or quick_reply.attachment_name,
                location_lat=lat,
                location_lng=lng,
            )
        )
    return messages


@transaction.atomic
def message_retry(*, message: Message, agent: Agent) -> Message:
    """A person's Retry on a `failed` or `unconfirmed` reply: back to `queued`, sent again.

    The only path that may repeat a request that possibly reached the gateway, so only an agent
    who may act on the conversation triggers it (assigned to them, not resolved).
    Locks: the conversation, then the message row, so two clicks re-queue once (the second
    finds it `queued` and is refused). On commit: enqueues the send task and pushes
    `message.status_changed`.
    """
    # The conversation first (as a reply locks it), so a transfer or resolve committing at the
    # same moment cannot let a retry through on a chat that is no longer this agent's.
    conversation = Conversation.objects.select_for_update().get(pk=message.conversation_id)
    message = Message.objects.select_for_update().get(pk=message.pk)
    message.conversation = conversation
    if message.direction != Message.Direction.OUT:
        raise ValidationError(_("Only your replies can be sent again."), code="not_outbound")
    _check_agent_may_reply(conversation=conversation, agent=agent)
    capabilities = _device_capabilities(conversation.device_id)
    if not capabilities.can_send:
        raise ValidationError(gettext(capabilities.cannot_send_reason), code="gateway_cannot_send")
    if message.status not in (S.FAILED, S.UNCONFIRMED):
        raise ValidationError(
            _("Only failed or unconfirmed messages can be sent again."), code="not_retryable"
        )
    message.status = S.QUEUED
    message.failure_reason = ""
    message.wait_reason = ""
    message.gateway_message_id = ""
    message.gateway_state_id = ""
    message.next_attempt_at = timezone.now()
    message.save(
        update_fields=[
            "status",
            "failure_reason",
            "wait_reason",
            "gateway_message_id",
            "gateway_state_id",
            "next_attempt_at",
        ]
    )
    bind_ids(device_id=message.device_id, conversation_id=conversation.pk, message_id=message.pk)
    logger.info("message %s re-queued by agent %s", message.pk, agent.pk)
    _enqueue_send_on_commit(message.pk, message=message)
    _push_status(message, message.conversation)
    return message


@transaction.atomic
def messages_release_for_device(*, device: Device) -> int:
    """Send the replies that waited for this device to reconnect. Returns how many.

    For the device-status webhook to call when a device connects (the sweep does the same a
    little later if nobody calls it). Enqueues on commit; the task's claim keeps it idempotent.
    """
    ids = list(
        Message.objects.filter(device=device, direction=Message.Direction.OUT, status=S.QUEUED)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[: settings.SEND_SWEEP_BATCH]
    )
    now = timezone.now()
    Message.objects.filter(pk__in=ids, status=S.QUEUED).update(next_attempt_at=now)
    for message_id in ids:
        _enqueue_send_on_commit(message_id)
    return len(ids)


@transaction.atomic
def messages_sweep_stuck(*, now: datetime | None = None) -> dict[str, int]:
    """Repair what a lost worker or a lost broker message left behind. Run by beat.

    - `sending` for longer than SEND_STUCK_AFTER seconds (far above the longest gateway call
      the httpx timeouts allow): the worker died mid-request, so the outcome is unknown →
      `unconfirmed`, never re-sent automatically.
    - `queued` whose expected run is more than SEND_QUEUED_STUCK_AFTER seconds past (its task
      was lost) → enqueue the send task again, unless the device is disconnected (those wait
      for it, with their reason shown).

    Each row moves with a conditional UPDATE, so sweeps racing each other or a task are
    harmless; enqueues and pushes happen on commit. At most SEND_SWEEP_BATCH rows of each kind
    per run. Returns {"unconfirmed": n, "requeued": m}.
    """
    now = now or timezone.now()
    batch = settings.SEND_SWEEP_BATCH
    out = Message.objects.filter(direction=Message.Direction.OUT)

    sending_cutoff = now - timedelta(seconds=settings.SEND_STUCK_AFTER)
    stale = (
        out.filter(status=S.SENDING)
        .filter(
            Q(send_started_at__lt=sending_cutoff)
            | Q(send_started_at__isnull=True, created_at__lt=sending_cutoff)
        )
        .select_related("conversation")
        .order_by("id")[:batch]
    )
    unconfirmed = 0
    for message in stale:
        moved = Message.objects.filter(
            pk=message.pk, status=S.SENDING, send_attempts=message.send_attempts
        ).update(status=S.UNCONFIRMED, failure_reason=REASON_INTERRUPTED)
        if moved:
            unconfirmed += 1
            message.status = S.UNCONFIRMED
            logger.warning("message %s stuck in sending: now unconfirmed", message.pk)
            _push_status(message, message.conversation)

    queued_cutoff = now - timedelta(seconds=settings.SEND_QUEUED_STUCK_AFTER)
    stuck = (
        out.filter(status=S.QUEUED)
        .filter(
            Q(next_attempt_at__lt=queued_cutoff)
            | Q(next_attempt_at__isnull=True, created_at__lt=queued_cutoff)
        )
        .exclude(device__status=Device.Status.DISCONNECTED)
        .order_by("id")
        .values_list("pk", "next_attempt_at")[:batch]
    )
    requeued = 0
    for message_id, expected in stuck:
        moved = Message.objects.filter(
            pk=message_id, status=S.QUEUED, next_attempt_at=expected
        ).update(next_attempt_at=now)
        if moved:
            requeued += 1
            _enqueue_send_on_commit(message_id)
    return {"unconfirmed": unconfirmed, "requeued": requeued}


# --- The send attempt (called by the send task) ---------------------------------------------------


class Outcome(enum.Enum):
    SKIPPED = "skipped"  # not queued (any more): another run has it, or a person must decide
    WAITING_DEVICE = "waiting_device"
    WAITING_SYSTEM = "waiting_system"  # Redis is down: the sweep sends it when it is back
    DEFERRED = "deferred"  # paced: the task comes back after `wait` seconds
    SENT = "sent"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    RETRY = "retry"  # certainly not sent, the gateway may take it later: back to queued


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    attempt: int | None = None
    reason: str = ""
    wait: float = 0.0
    booked: bool = False


def retry_countdown_bound(retries: int) -> int:
    """The longest countdown Celery's backoff can pick for this retry (jitter picks ≤ this)."""
    return min(settings.SEND_RETRY_BACKOFF_MAX, settings.SEND_RETRY_BACKOFF * (2**retries))


_SEND_FIELDS = (
    "direction",
    "status",
    "text",
    "quoted_id",
    "send_attempts",
    "wait_reason",
    "raw",
    "attachment_url",
    "attachment_name",
    "attachment_file",
    "location_lat",
    "location_lng",
    "poll_name",
    "poll_choices",
    "poll_multiple",
    "conversation__agent_id",
    "conversation__division_id",
    "conversation__contact__address",
    "device__gateway",
    "device__gateway_token",
    "device__gateway_instance",
    "device__number",
    "device__status",
    "device__send_rate_per_minute",
    "device__send_burst",
    "device__send_gap_min_seconds",
    "device__send_gap_max_seconds",
)


def _outgoing(message: Message) -> Outgoing:
    """The gateway-neutral form of a queued reply (base.Outgoing); the adapter turns it into
    its provider's fields."""
    quote_id = None
    if message.quoted_id:
        # A gateway quotes only messages it gave an id for (Fonnte: inboxid > 0, when its
        # inbox is on); without one the reply still goes out, unquoted on WhatsApp.
        quote_id = (
            Message.objects.filter(pk=message.quoted_id, direction=Message.Direction.IN)
            .values_list("gateway_inbox_id", flat=True)
            .first()
        ) or None
    common = {"target": message.conversation.contact.address, "quote_id": quote_id}
    if message.poll_name:
        poll = OutgoingPoll(
            question=message.poll_name,
            choices=tuple(message.poll_choices),
            multiple=message.poll_multiple,
        )
        return Outgoing(poll=poll, **common)
    if message.location_lat is not None and message.location_lng is not None:
        return Outgoing(location=(message.location_lat, message.location_lng), **common)
    if message.attachment_file:
        # Signed now, not when the reply was stored: a reply that waited for a disconnected
        # device or a backoff must still hand the gateway a link that has not expired.
        return Outgoing(
            text=message.text,
            attachment_url=outgoing_file_signed_url(stored_name=message.attachment_file.name),
            attachment_name=message.attachment_name,
            **common,
        )
    if message.attachment_url:
        return Outgoing(
            text=message.text,
            attachment_url=message.attachment_url,
            attachment_name=message.attachment_name,
            **common,
        )
    return Outgoing(text=message.text, **common)


def _move(message: Message, *, attempt: int | None, from_status: str, **values) -> bool:
    """Conditional UPDATE of one message; pushes the new status on commit when it moved."""
    rows = Message.objects.filter(pk=message.pk, status=from_status)
    if attempt is not None:
        rows = rows.filter(send_attempts=attempt)
    with transaction.atomic():
        moved = rows.update(**values) == 1
        if moved and "status" in values and values["status"] != from_status:
            message.status = values["status"]
            _push_status(message, message.conversation)
    return moved


def message_send_attempt(
    *, message_id: int, booked: bool = False, retries: int = 0
) -> AttemptResult:
    """One try at sending a queued outbound message. Idempotent per state; not one transaction.

    Deliberately not atomic as a whole: no transaction or row lock is held during the gateway
    call. Each write is a short conditional UPDATE:
    1. not `queued` → SKIPPED (a second run of the task does nothing);
    2. device disconnected → stays queued with the reason shown (WAITING_DEVICE);
    3. pacing: without a token the task is told to come back later (DEFERRED); `booked` means
       the slot was already reserved by an earlier run; with Redis down it stays queued, marked
       "will be sent when the system recovers", for the sweep (WAITING_SYSTEM);
    4. claim: `queued` → `sending`, send_attempts + 1 (only one run can win);
    5. the gateway call, outside any transaction;
    6. record, guarded by the attempt number, by the adapter's outcome (base.SendOutcome):
       SENT with the gateway ids; FAILED with the reason (REFUSED); back to `queued` for RETRY
       (RETRYABLE: certainly not sent); UNCONFIRMED when the request may have reached the
       gateway (UNKNOWN).
    `retries` is the task's retry count, to tell the sweep when the next run is due.
    """
    try:
        # Only what a send needs: this runs once per message on the hot path.
        message = (
            Message.objects.select_related("conversation__contact", "device")
            .only(*_SEND_FIELDS)
            .get(pk=message_id, direction=Message.Direction.OUT)
        )
    except Message.DoesNotExist:
        return AttemptResult(Outcome.SKIPPED)
    bind_ids(device_id=message.device_id, conversation_id=message.conversation_id)
    if message.status != S.QUEUED:
        return AttemptResult(Outcome.SKIPPED)
    device = message.device
    now = timezone.now()

    gateway = registry.gateway_for(device)
    reason = gateway.cannot_send_reason(device=device)
    if reason:
        _move(message, attempt=None, from_status=S.QUEUED, status=S.FAILED, failure_reason=reason)
        return AttemptResult(Outcome.FAILED, reason=reason)

    if device.status == Device.Status.DISCONNECTED:
        if message.wait_reason != WAIT_DEVICE_DISCONNECTED:
            _move(
                message,
                attempt=None,
                from_status=S.QUEUED,
                wait_reason=WAIT_DEVICE_DISCONNECTED,
                next_attempt_at=now,
            )
            _push_status(message, message.conversation)
        return AttemptResult(Outcome.WAITING_DEVICE, reason=WAIT_DEVICE_DISCONNECTED)

    if not booked:
        try:
            decision = device_send_slot(device_id=device.pk, pacing=device_pacing(device))
        except redis.RedisError:
            # The pace is shared through Redis; without it nothing leaves (sending unpaced could
            # get the number banned). Still queued, and said so: the sweep re-enqueues it once
            # Redis is back (docs/RELIABILITY.md "Redis and database outages").
            logger.warning("message %s waits: pacing is unavailable (Redis down)", message.pk)
            _move(
                message,
                attempt=None,
                from_status=S.QUEUED,
                wait_reason=WAIT_SYSTEM_RECOVERING,
                next_attempt_at=now,
            )
            return AttemptResult(Outcome.WAITING_SYSTEM, reason=WAIT_SYSTEM_RECOVERING)
        if not decision.send_now:
            _move(
                message,
                attempt=None,
                from_status=S.QUEUED,
                wait_reason=WAIT_PACING,
                next_attempt_at=now + timedelta(seconds=decision.wait),
            )
            _enqueue_send_later(message.pk, wait=decision.wait, booked=decision.booked)
            return AttemptResult(Outcome.DEFERRED, wait=decision.wait, booked=decision.booked)

    # Built before the claim: a failure here happens before any byte leaves, so the task's
    # failure hook can fail the still-queued message instead of leaving it unconfirmed.
    outgoing = _outgoing(message)
    attempt = message.send_attempts + 1
    claimed = _move(
        message,
        attempt=message.send_attempts,
        from_status=S.QUEUED,
        status=S.SENDING,
        send_attempts=attempt,
        send_started_at=now,
        wait_reason="",
    )
    if not claimed:
        return AttemptResult(Outcome.SKIPPED)

    try:
        result = gateway.send(device=device, outgoing=outgoing)
    except Exception:
        # A bug inside the call: we cannot tell whether bytes left, so the honest state is
        # unconfirmed (a person decides), never a silent automatic resend.
        logger.exception("send of message %s crashed", message.pk)
        result = SendResult(ok=False, reason=REASON_INTERNAL)
    return _record(message, attempt=attempt, result=result, retries=retries)


def _record(message: Message, *, attempt: int, result: SendResult, retries: int) -> AttemptResult:
    now = timezone.now()
    outcome = result.outcome
    if outcome is SendOutcome.SENT:
        # The sweep may have turned a slow call into `unconfirmed` meanwhile: the gateway's
        # "accepted" proves otherwise.
        for from_status in (S.SENDING, S.UNCONFIRMED):
            if _move(
                message,
                attempt=attempt,
                from_status=from_status,
                status=S.SENT,
                sent_at=now,
                gateway_message_id=result.message_ids[0] if result.message_ids else "",
                failure_reason="",
                raw={
                    **(message.raw or {}),
                    "send": {
                        "request_id": result.request_id,
                        "ids": result.message_ids,
                        "detail": result.detail,
                    },
                },
            ):
                # The gateway may have reported on this message before we knew its id. (Imported
                # here: status_early → inbound → tasks → this module.)
                from .status_early import early_status_replay

                early_status_replay(device=message.device, message_ids=result.message_ids)
                break
        return AttemptResult(Outcome.SENT, attempt=attempt)
    if outcome is SendOutcome.REFUSED:
        _move(
            message,
            attempt=attempt,
            from_status=S.SENDING,
            status=S.FAILED,
            failure_reason=result.reason[:255],
        )
        return AttemptResult(Outcome.FAILED, attempt=attempt, reason=result.reason)
    if outcome is SendOutcome.RETRYABLE:
        _move(
            message,
            attempt=attempt,
            from_status=S.SENDING,
            status=S.QUEUED,
            wait_reason=WAIT_GATEWAY_RETRY,
            next_attempt_at=now + timedelta(seconds=retry_countdown_bound(retries)),
        )
        return AttemptResult(Outcome.RETRY, attempt=attempt, reason=result.reason)
    _move(
        message,
        attempt=attempt,
        from_status=S.SENDING,
        status=S.UNCONFIRMED,
        failure_reason=result.reason[:255],
    )
    return AttemptResult(Outcome.UNCONFIRMED, attempt=attempt, reason=result.reason)


@transaction.atomic
def message_send_give_up(*, message_id: int, attempt: int | None, reason: str) -> str | None:
    """The send task's failure hook: its retries are exhausted, or it crashed.

    A message back in `queued` (between retries) fails with the last reason; one still in
    `sending` (crashed after the claim) becomes `unconfirmed`, because the request may have
    left. Guarded by the attempt number when known, so an exhausted task cannot touch a newer
    attempt. Returns the new status, or None when nothing changed.
    """
    message = Message.objects.select_related("conversation").filter(pk=message_id).first()
    if message is None or message.direction != Message.Direction.OUT:
        return None
    if message.status == S.QUEUED:
        gateway_said = reason and reason != REASON_INTERNAL
        new, text = S.FAILED, f"{REASON_GAVE_UP}: {reason}" if gateway_said else REASON_INTERNAL
    elif message.status == S.SENDING:
        new, text = S.UNCONFIRMED, REASON_INTERRUPTED
    else:
        return None
    if _move(
        message,
        attempt=attempt,
        from_status=message.status,
        status=new,
        failure_reason=text[:255],
        wait_reason="",
    ):
        return new
    return None
