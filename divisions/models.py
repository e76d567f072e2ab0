from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Division(models.Model):
    """A team of agents that shares one rotation pool and one waiting queue."""

    class RotationMode(models.TextChoices):
        FULL = "full", _("Full: everyone once per cycle, in random order")
        PARTIAL = "partial", _("Partial: a random pick each time")

    class SkippedTurn(models.TextChoices):
        FORFEIT = "forfeit", _("Forfeit the turn for this cycle")
        KEEP = "keep", _("Keep the turn until the agent is eligible again")

    name = models.CharField(_("name"), max_length=80, unique=True)
    rotation_mode = models.CharField(
        _("rotation mode"),
        max_length=10,
        choices=RotationMode,
        default=RotationMode.FULL,
        help_text=_(
            "Full (the default): every eligible agent gets one new chat per cycle, in random "
            "order. Partial: each new chat goes to a random eligible agent."
        ),
    )
    online_only = models.BooleanField(
        _("online agents only"),
        default=True,
        help_text=_(
            "On (the default): only agents with the workspace open receive new chats. Agents "
            "who switched to away never receive new chats."
        ),
    )
    max_open_chats = models.PositiveSmallIntegerField(
        _("open chats per agent"),
        null=True,
        blank=True,
        help_text=_(
            "Agents at this many open chats are skipped until they resolve one; an agent's own "
            "limit overrides it. Empty (the default) means no limit."
        ),
    )
    skipped_turn = models.CharField(
        _("a skipped agent's turn"),
        max_length=10,
        choices=SkippedTurn,
        default=SkippedTurn.KEEP,
        help_text=_(
            "Full rotation only. When a cycle ends while an agent was offline, away or at their "
            "limit: “keep” (the default) gives them that turn first when they are eligible "
            "again, at most one turn however long they were gone; “forfeit” drops it."
        ),
    )
    sticky_returning_contacts = models.BooleanField(
        _("returning contacts go back to their previous agent"),
        default=True,
        help_text=_(
            "On (the default): a contact who writes again after their chat was resolved goes "
            "to the agent who had it, when that agent is eligible; otherwise through rotation. "
            "Such a chat does not use a rotation turn."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("division")
        verbose_name_plural = _("divisions")

    def __str__(self) -> str:
        return self.name
