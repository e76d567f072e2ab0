from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RotationState(models.Model):
    """The persisted cycle of one pool ("division:<id>", later "rotator:<id>").

    `remaining` holds the members not yet picked in the current full cycle; the row is locked
    (SELECT … FOR UPDATE on PostgreSQL, an IMMEDIATE transaction on SQLite) for every pick.
    """

    pool = models.CharField(_("pool"), max_length=64, unique=True)
    cycle = models.PositiveIntegerField(_("cycle"), default=0)
    remaining = models.JSONField(_("members left in this cycle"), default=list, blank=True)
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
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("assignment log entry")
        verbose_name_plural = _("assignment log")

    def __str__(self) -> str:
        return f"{self.pool} → {self.agent or '—'} ({self.get_trigger_display()})"
