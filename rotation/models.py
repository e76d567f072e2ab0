from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SkipReason(models.TextChoices):
    """Why a member of a pool did not get a pick (stored in AssignmentLog.skipped)."""

    OFFLINE = "offline", _("offline")
    AWAY = "away", _("away")
    AT_CAPACITY = "at_capacity", _("at the open-chat limit")
    PRESENCE_UNKNOWN = "presence_unknown", _("presence unknown (Redis unreachable)")
    HAD_TURN = "had_turn", _("already had a turn in this cycle")
    INACTIVE = "inactive", _("inactive")
    DISCONNECTED = "disconnected", _("number disconnected")
    HANDED_ON = "handed_on", _("just handed this chat on")


class LogNote(models.TextChoices):
    """Codes stored in AssignmentLog.note (";"-separated), shown translated in the admin."""

    KEPT_TURN = "kept_turn", _("a turn kept from an earlier cycle was served")
    CYCLE_ENDED = "cycle_ended", _("the previous cycle ended")
    NOBODY_ELIGIBLE = "nobody_eligible", _("nobody was eligible: the chat waits in the queue")
    PREVIOUS_AGENT = "previous_agent", _("returning contact: back to their previous agent")
    PREVIOUS_AGENT_UNAVAILABLE = (
        "previous_agent_unavailable",
        _("returning contact: their previous agent was not eligible"),
    )
    FROM_QUEUE = "from_queue", _("assigned from the waiting queue")
    DIRECT_TRANSFER = "direct_transfer", _("transferred to a chosen agent (no rotation turn)")
    BY_STAFF = "by_staff", _("done by a supervisor")
    STARTED_BY_AGENT = "started_by_agent", _("new chat started by the agent")


class RotationState(models.Model):
    """The persisted cycle of one pool ("division:<id>", "rotator:<id>").

    `remaining` holds the turns not yet used in the current full cycle (a member id once per
    turn: a weight of 3 is three entries) and `picked` the turns already used, so a member who
    joins mid-cycle can be told apart from one who already had their turn. The row is locked
    (SELECT … FOR UPDATE on PostgreSQL, an IMMEDIATE transaction on SQLite) for every pick.
    """

    pool = models.CharField(_("pool"), max_length=64, unique=True)
    cycle = models.PositiveIntegerField(_("cycle"), default=0)
    remaining = models.JSONField(_("members left in this cycle"), default=list, blank=True)
    picked = models.JSONField(_("members picked in this cycle"), default=list, blank=True)
    kept_turns = models.JSONField(_("turns kept for absent members"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("rotation state")
        verbose_name_plural = _("rotation states")

    def __str__(self) -> str:
        return f"{self.pool} (cycle {self.cycle})"


class AssignmentLog(models.Model):
    """Why a chat went to whom: every pick, with the candidates and who was skipped."""

    class Trigger(models.TextChoices):
        NEW_CHAT = "new_chat", _("New chat")
        RETURNING = "returning", _("Returning contact")
        QUEUE_DRAIN = "queue_drain", _("Queue drained")
        TAKE = "take", _("Taken from the queue")
        TRANSFER = "transfer", _("Transfer")
        HAND_BACK = "hand_back", _("Handed back to rotation")
        ROTATOR = "rotator", _("Rotator link")

    pool = models.CharField(_("pool"), max_length=64, db_index=True)
    mode = models.CharField(_("mode"), max_length=10)
    cycle = models.PositiveIntegerField(_("cycle"), default=0)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger)
    candidates = models.JSONField(_("candidates"), default=list, blank=True)
    skipped = models.JSONField(_("skipped, with reasons"), default=list, blank=True)
    chosen_member = models.PositiveBigIntegerField(_("chosen member id"), null=True, blank=True)
    agent = models.ForeignKey(
        "agents.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignment_logs",
        verbose_name=_("agent"),
    )
    conversation = models.ForeignKey(
        "chats.Conversation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="assignment_logs",
        verbose_name=_("conversation"),
    )
    # Rotator-link picks: which link, and the number the visitor was sent to.
    rotator_link = models.ForeignKey(
        "rotation.RotatorLink",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignment_logs",
        verbose_name=_("rotator link"),
    )
    device = models.ForeignKey(
        "devices_app.Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("number"),
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("assignment log entry")
        verbose_name_plural = _("assignment log")

    def __str__(self) -> str:
        return f"{self.pool} → {self.agent or '—'} ({self.get_trigger_display()})"


class RotatorLink(models.Model):
    """A public link (/r/<slug>) that opens a chat with one of several numbers, by rotation."""

    class Mode(models.TextChoices):
        FULL = "full", _("Full: every number once per cycle (times its weight)")
        PARTIAL = "partial", _("Partial: a random number each time")

    slug = models.SlugField(
        _("link"), max_length=64, unique=True, help_text=_("The public address is /r/<link>.")
    )
    name = models.CharField(_("name"), max_length=120)
    text = models.TextField(
        _("pre-filled text"),
        blank=True,
        max_length=1000,
        help_text=_("What the visitor's WhatsApp types for them; they can edit it before sending."),
    )
    mode = models.CharField(_("rotation mode"), max_length=10, choices=Mode, default=Mode.FULL)
    is_active = models.BooleanField(_("active"), default=True)
    clicks = models.PositiveBigIntegerField(_("clicks"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("rotator link")
        verbose_name_plural = _("rotator links")

    def __str__(self) -> str:
        return f"{self.name} (/r/{self.slug})"


class RotatorMember(models.Model):
    """A number of a rotator link; a weight of w gives it w turns per full cycle."""

    link = models.ForeignKey(
        RotatorLink, on_delete=models.CASCADE, related_name="members", verbose_name=_("link")
    )
    device = models.ForeignKey(
        "devices_app.Device",
        on_delete=models.CASCADE,
        related_name="rotator_memberships",
        verbose_name=_("device"),
    )
    weight = models.PositiveSmallIntegerField(
        _("weight"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Turns per full cycle."),
    )

    class Meta:
        ordering = ["link", "device__name"]
        verbose_name = _("rotator number")
        verbose_name_plural = _("rotator numbers")
        constraints = [
            models.UniqueConstraint(fields=["link", "device"], name="rotator_member_unique"),
            models.CheckConstraint(condition=Q(weight__gte=1), name="rotator_member_weight_min"),
        ]

    def __str__(self) -> str:
        return f"{self.link.slug}: {self.device} ×{self.weight}"
