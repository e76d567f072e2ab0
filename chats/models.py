from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from devices_app.phone import display_number


class Contact(models.Model):
    """A customer (or a WhatsApp group) as seen from one device."""

    device = models.ForeignKey(
        "devices_app.Device",
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("device"),
    )
    address = models.CharField(
        _("number or group id"), max_length=64, help_text=_("6281… for people, …@g.us for groups.")
    )
    name = models.CharField(_("name"), max_length=120, blank=True)
    is_group = models.BooleanField(_("group"), default=False)
    created_at = models.DateTimeField(_("first seen"), auto_now_add=True)

    class Meta:
        ordering = ["name", "address"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(fields=["device", "address"], name="contact_unique_per_device")
        ]

    def __str__(self) -> str:
        return self.name or self.display_address

    @property
    def display_address(self) -> str:
        if self.is_group:
            # A group id ("120363400812345678@g.us") means nothing to a reader; its last
            # digits tell two unnamed groups apart.
            digits = self.address.split("@")[0]
            return gettext("WhatsApp group …%(tail)s") % {"tail": digits[-4:]}
        return display_number(self.address)


class Label(models.Model):
    """A tag agents put on conversations ("complaint", "VIP"…); admins keep the list."""

    class Color(models.TextChoices):
        # A small fixed palette: the stylesheet has one class per value (`label-<color>`).
        GRAY = "gray", _("Gray")
        RED = "red", _("Red")
        ORANGE = "orange", _("Orange")
        YELLOW = "yellow", _("Yellow")
        GREEN = "green", _("Green")
        TEAL = "teal", _("Teal")
        BLUE = "blue", _("Blue")
        PURPLE = "purple", _("Purple")
        PINK = "pink", _("Pink")

    name = models.CharField(_("name"), max_length=40)
    color = models.CharField(_("color"), max_length=10, choices=Color, default=Color.GRAY)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        constraints = [
            # "VIP" and "vip" would look like one label in the filter.
            models.UniqueConstraint(
                Lower("name"),
                name="label_name_unique_ci",
                violation_error_message=_("A label with this name already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    """One episode with a contact. At most one is not resolved per contact at any time."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for an agent")
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="conversations", verbose_name=_("contact")
    )
    device = models.ForeignKey(
        "devices_app.Device",
        on_delete=models.PROTECT,
        related_name="conversations",
        verbose_name=_("device"),
    )
    division = models.ForeignKey(
        "divisions.Division",
        on_delete=models.PROTECT,
        related_name="conversations",
        verbose_name=_("division"),
    )
    agent = models.ForeignKey(
        "agents.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("agent"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.QUEUED)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), auto_now_add=True, db_index=True)
    last_message_preview = models.CharField(_("last message"), max_length=160, blank=True)
    unread_count = models.PositiveIntegerField(_("unread"), default=0)
    labels = models.ManyToManyField(
        Label, blank=True, related_name="conversations", verbose_name=_("labels")
    )

    class Meta:
        ordering = ["-last_activity_at"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.UniqueConstraint(
                fields=["contact"],
                condition=~Q(status="resolved"),
                name="one_unresolved_conversation_per_contact",
            )
        ]
        indexes = [
            # The agent's "Mine" tab and the division's "Queue" tab, newest activity first.
            models.Index(fields=["agent", "status", "-last_activity_at"], name="conv_agent_inbox"),
            models.Index(
                fields=["division", "status", "-last_activity_at"], name="conv_division_inbox"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.contact}"


class Message(models.Model):
    class AttachmentState(models.TextChoices):
        # Blank: no attachment, or an incoming one whose copy has not finished yet.
        STORED = "stored", _("Stored")
        UNAVAILABLE = "unavailable", _("Not available")
        DELETED = "deleted", _("Deleted after the retention period")

    class AttachmentError(models.TextChoices):
        EXPIRED = "expired", _("The gateway no longer has this file (gateways keep files briefly).")
        TOO_LARGE = "too_large", _("The file is larger than the allowed size.")
        BLOCKED_ADDRESS = "blocked_address", _("The file's address points to a private network.")
        INVALID_URL = "invalid_url", _("The file's address is not a valid web address.")
        HTTP_ERROR = "http_error", _("The gateway refused to hand over the file.")
        UNREACHABLE = "unreachable", _("The file could not be downloaded after several tries.")

    class Direction(models.TextChoices):
        IN = "in", _("From the customer")
        OUT = "out", _("From an agent")
        NOTE = "note", _("Internal note")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")
        UNCONFIRMED = "unconfirmed", _("May not have been sent")

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
    )
    # Denormalised from the conversation so inbound dedupe keys are unique per device.
    device = models.ForeignKey(
        "devices_app.Device",
        on_delete=models.PROTECT,
        related_name="messages",
        verbose_name=_("device"),
    )
    direction = models.CharField(_("direction"), max_length=4, choices=Direction)
    text = models.TextField(_("text"), blank=True)
    sender_agent = models.ForeignKey(
        "agents.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("sent by agent"),
    )
    # In groups, who wrote the message (the contact is the group).
    author_address = models.CharField(_("author number"), max_length=64, blank=True)
    author_name = models.CharField(_("author name"), max_length=120, blank=True)

    attachment_url = models.URLField(_("attachment URL"), max_length=1000, blank=True)
    attachment_name = models.CharField(_("attachment name"), max_length=255, blank=True)
    attachment_extension = models.CharField(_("attachment type"), max_length=16, blank=True)
    attachment_file = models.FileField(
        _("stored attachment"), upload_to="attachments/%Y/%m/", blank=True
    )
    # Filled by chats.services.media: what was stored, or why nothing could be.
    attachment_state = models.CharField(
        _("attachment state"), max_length=12, choices=AttachmentState, blank=True
    )
    attachment_error = models.CharField(
        _("attachment problem"), max_length=16, choices=AttachmentError, blank=True
    )
    attachment_size = models.PositiveBigIntegerField(_("attachment size"), null=True, blank=True)
    attachment_content_type = models.CharField(
        _("attachment content type"), max_length=100, blank=True
    )
    location_lat = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    location_lng = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    poll_name = models.CharField(_("poll question"), max_length=255, blank=True)
    poll_choices = models.JSONField(_("poll choices"), default=list, blank=True)
    poll_multiple = models.BooleanField(_("several answers allowed"), default=False)
    # A customer's vote (poll_name: the question, poll_choices: what they chose); poll_vote_for
    # is the poll when Sapa sent it in this chat, else empty (a poll sent from the phone…).
    is_poll_vote = models.BooleanField(_("poll vote"), default=False)
    poll_vote_for = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="poll_votes",
        verbose_name=_("vote on poll"),
    )
    quoted = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("quotes"),
    )
    is_forwarded = models.BooleanField(_("forwarded"), default=False)
    # The collision guard (chats.services.collision): who else was typing in the chat when this
    # reply was stored. Not a refusal: both may have answered; the bubble says so.
    collided_with = models.CharField(_("others typing when sent"), max_length=255, blank=True)

    # Inbound identity: the gateway's inbox id when it gives one, and the dedupe key that makes
    # a retried webhook store nothing new.
    gateway_inbox_id = models.BigIntegerField(_("gateway inbox id"), null=True, blank=True)
    # NULL (not "") for outbound rows, so the unique constraint applies to inbound keys only.
    dedupe_key = models.CharField(  # noqa: DJ001
        _("dedupe key"), max_length=80, null=True, blank=True, editable=False
    )
    # Outbound identity: Fonnte answers `id` on /send; status webhooks may carry `stateid`.
    gateway_message_id = models.CharField(
        _("gateway message id"), max_length=64, blank=True, db_index=True
    )
    gateway_state_id = models.CharField(
        _("gateway state id"), max_length=64, blank=True, db_index=True
    )
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.RECEIVED)
    failure_reason = models.CharField(_("failure reason"), max_length=255, blank=True)
    # Outbound send bookkeeping (chats.services.outbound). `wait_reason` says why a queued reply
    # has not left yet (device disconnected, gateway unavailable and retrying, pacing); it holds
    # an untranslated message id, translated when shown.
    wait_reason = models.CharField(_("waiting because"), max_length=255, blank=True)
    # Gateway requests started for this message; each claim of `sending` increments it, so a
    # late answer of an older attempt can never overwrite a newer one.
    send_attempts = models.PositiveIntegerField(_("send attempts"), default=0)
    # When the current `sending` claim began: the sweep turns old claims into `unconfirmed`.
    send_started_at = models.DateTimeField(_("send started"), null=True, blank=True)
    # When a send task is expected to pick a queued reply up (now, or after a pacing / backoff
    # countdown): the sweep re-enqueues queued replies whose expected run is long past.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    raw = models.JSONField(_("raw payload"), default=dict, blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    gateway_timestamp = models.DateTimeField(_("gateway time"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "dedupe_key"],
                condition=Q(dedupe_key__isnull=False),
                name="message_dedupe_key_per_device",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at", "id"], name="msg_thread"),
            models.Index(fields=["status", "created_at"], name="msg_status_sweep"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} #{self.pk}"


class EarlyStatusUpdate(models.Model):
    """A delivery update that arrived before Sapa knew the message it names.

    The gateway may call the status webhook before its answer to /send has been recorded (the
    answer carries the id), and a stateid-only "read" names a state id Sapa learns only from an
    earlier update. Such updates are kept here and applied when the id arrives
    (`chats.services.status_early`); rows nobody claims are pruned after a day.
    """

    device = models.ForeignKey("devices_app.Device", on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(_("gateway message id"), max_length=64, blank=True)
    state_id = models.CharField(_("gateway state id"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=32, blank=True)
    state = models.CharField(_("state"), max_length=32, blank=True)
    # What the adapter normalized the update to (StatusUpdate.delivery / failure_reason).
    delivery = models.CharField(_("delivery"), max_length=16, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=255, blank=True)
    raw = models.JSONField(_("raw payload"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["received_at", "id"]
        verbose_name = _("early status update")
        verbose_name_plural = _("early status updates")
        indexes = [
            models.Index(fields=["device", "message_id"], name="early_status_by_id"),
            models.Index(fields=["device", "state_id"], name="early_status_by_state"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id or self.state_id}: {self.status or self.state}"
