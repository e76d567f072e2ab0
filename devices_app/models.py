from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .crypto import EncryptedTextField
from .pacing import device_pacing
from .phone import display_number


def new_webhook_key() -> str:
    return secrets.token_urlsafe(24)


class Device(models.Model):
    """A WhatsApp number connected through a gateway; its chats route to one division."""

    class Gateway(models.TextChoices):
        FONNTE = "fonnte", "Fonnte"
        APIWAGO = "apiwago", _("ApiWago (self-hosted)")
        WONOTIFY = "wonotify", _("wonotify (experimental)")
        SANDBOX = "sandbox", _("Sandbox (simulated)")

    class Status(models.TextChoices):
        UNKNOWN = "unknown", _("Unknown")
        CONNECTED = "connected", _("Connected")
        DISCONNECTED = "disconnected", _("Disconnected")

    number = models.CharField(
        _("WhatsApp number"),
        max_length=20,
        unique=True,
        help_text=_("Digits with the country code, e.g. 6281234567890."),
    )
    name = models.CharField(_("display name"), max_length=80)
    gateway = models.CharField(_("gateway"), max_length=16, choices=Gateway, default=Gateway.FONNTE)
    # Encrypted at rest; never shown back in full (masked_gateway_token).
    gateway_token = EncryptedTextField(_("gateway token"), blank=True)
    gateway_instance = models.CharField(
        _("gateway instance id"),
        max_length=120,
        blank=True,
        help_text=_("wonotify only: the instance id of the WhatsApp session."),
    )
    webhook_key = models.CharField(
        _("webhook key"), max_length=64, unique=True, default=new_webhook_key, editable=False
    )
    division = models.ForeignKey(
        "divisions.Division",
        on_delete=models.PROTECT,
        related_name="devices",
        verbose_name=_("routes chats to division"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    status = models.CharField(
        _("connection"), max_length=16, choices=Status, default=Status.UNKNOWN
    )
    status_reason = models.CharField(_("connection detail"), max_length=255, blank=True)
    status_changed_at = models.DateTimeField(_("connection changed"), null=True, blank=True)
    # The gateway's own time of the last connection event that carried one. Connection events
    # are ordered by this alone: comparing it with Sapa's clock (status_changed_at of an event
    # without a timestamp) made a connect a few seconds "behind" look older than the
    # disconnect before it (devices_app.services.device_connection_apply).
    status_event_at = models.DateTimeField(
        _("gateway time of the connection event"), null=True, blank=True, editable=False
    )
    quota = models.CharField(_("quota"), max_length=40, blank=True)
    package = models.CharField(_("package"), max_length=40, blank=True)
    expires = models.CharField(_("expires"), max_length=40, blank=True)
    # When quota / package / expires were last read from the gateway: its profile API is
    # rate-limited, so the console answers from these until they are PROFILE_MAX_AGE old.
    profile_checked_at = models.DateTimeField(_("profile checked"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Sending pace (devices_app.pacing): empty means the default from the environment. Read at
    # every send, so a change applies to the next reply without a restart.
    send_rate_per_minute = models.PositiveIntegerField(
        _("messages per minute"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(600)],
        help_text=_("At most this many replies a minute; 0 sends without a rate limit."),
    )
    send_burst = models.PositiveIntegerField(
        _("burst"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("How many replies may leave at once before the rate applies."),
    )
    send_gap_min_seconds = models.PositiveIntegerField(
        _("shortest gap between sends (seconds)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(300)],
    )
    send_gap_max_seconds = models.PositiveIntegerField(
        _("longest gap between sends (seconds)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(300)],
        help_text=_(
            "Each reply waits a random time in this range after the previous one, like the "
            "gateway's own delay (e.g. 2 to 5)."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return f"{self.name} ({self.display_number})"

    def clean(self) -> None:
        super().clean()
        pacing = device_pacing(self)
        errors = {}
        if pacing.gap_min > pacing.gap_max:
            errors["send_gap_max_seconds"] = _(
                "The longest gap must not be shorter than the shortest gap (%(min)s s)."
            ) % {"min": pacing.gap_min}
        # A wait the bucket may not book (SEND_PACING_MAX_WAIT) would keep a reply waiting
        # forever: each gap, and each interval of the rate, must fit inside it.
        if pacing.gap_max > settings.SEND_PACING_MAX_WAIT:
            errors["send_gap_max_seconds"] = _(
                "At most %(max)s seconds (the longest wait a reply may be booked for)."
            ) % {"max": int(settings.SEND_PACING_MAX_WAIT)}
        if pacing.rate > 0 and 1 / pacing.rate > settings.SEND_PACING_MAX_WAIT:
            errors["send_rate_per_minute"] = _(
                "At least %(min)s a minute (one every %(max)s seconds at most)."
            ) % {
                "min": max(1, int(60 // settings.SEND_PACING_MAX_WAIT)),
                "max": int(settings.SEND_PACING_MAX_WAIT),
            }
        if errors:
            raise ValidationError(errors)

    @property
    def display_number(self) -> str:
        return display_number(self.number)

    @property
    def masked_gateway_token(self) -> str:
        if not self.gateway_token:
            return ""
        return "•" * 8 + self.gateway_token[-4:]


class SandboxMessage(models.Model):
    """What a simulated customer's phone shows: their own messages and what the sandbox gateway
    delivered to them. Only the sandbox gateway (devices_app.sandbox) writes these."""

    class Direction(models.TextChoices):
        FROM_CUSTOMER = "in", _("From the customer")
        TO_CUSTOMER = "out", _("To the customer")

    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="sandbox_messages", verbose_name=_("device")
    )
    customer = models.CharField(_("customer number"), max_length=64)
    direction = models.CharField(_("direction"), max_length=4, choices=Direction)
    text = models.TextField(_("text"), blank=True)
    url = models.CharField(_("attachment URL"), max_length=1000, blank=True)
    filename = models.CharField(_("attachment name"), max_length=255, blank=True)
    location = models.CharField(_("location"), max_length=64, blank=True)
    poll_name = models.CharField(_("poll question"), max_length=255, blank=True)
    poll_choices = models.JSONField(_("poll choices"), default=list, blank=True)
    state = models.CharField(_("delivery state"), max_length=16, blank=True)
    # The customer's reply to one message of the chat, as their phone shows it.
    quoted = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("quotes"),
    )
    is_forwarded = models.BooleanField(_("forwarded"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("sandbox message")
        verbose_name_plural = _("sandbox messages")
        indexes = [
            models.Index(fields=["device", "customer", "created_at"], name="sandbox_chat"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.direction} #{self.pk}"

    @property
    def gateway_id(self) -> str:
        """The Fonnte-style message id the sandbox answered /send with."""
        return str(80_000_000 + self.pk)

    @property
    def state_id(self) -> str:
        return f"sbx{self.pk}"


class UnparsedWebhook(models.Model):
    """A webhook body Sapa could not read, from a gateway that ignores our answer (ApiWago,
    wonotify): refusing it would lose it, so it is kept here for staff to read and answered
    200 (devices_app.services.unparsed_webhook_keep). Credentials in it are masked."""

    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="unparsed_webhooks", verbose_name=_("device")
    )
    gateway = models.CharField(_("gateway"), max_length=16)
    kind = models.CharField(_("webhook"), max_length=16)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    body = models.TextField(_("body"), blank=True)
    body_size = models.PositiveIntegerField(_("size in bytes"))
    reason = models.CharField(_("why it could not be read"), max_length=255)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("unreadable webhook")
        verbose_name_plural = _("unreadable webhooks")

    def __str__(self) -> str:
        return f"{self.gateway} {self.kind} #{self.pk}"
