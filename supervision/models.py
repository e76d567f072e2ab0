"""Who supervises what, and what supervisors did (README, "What supervisors get").

A staff user without a `SupervisorScope` row, or with `all_divisions` on, supervises every
division (DESIGN: "staff see everything"); a row with `all_divisions` off limits them to the
divisions listed, and to none when the list is empty. A superuser always sees everything.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agents.timezones import default_time_zone, validate_time_zone


class SupervisorScope(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="supervisor_scope",
        verbose_name=_("staff user"),
        limit_choices_to={"is_staff": True},
    )
    all_divisions = models.BooleanField(
        _("supervises every division"),
        default=False,
        help_text=_("Off: this staff user sees and acts on the divisions chosen below only."),
    )
    divisions = models.ManyToManyField(
        "divisions.Division",
        blank=True,
        related_name="supervisor_scopes",
        verbose_name=_("divisions supervised"),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text=_("The board and the reports show dates and times in this zone."),
    )

    class Meta:
        verbose_name = _("supervisor scope")
        verbose_name_plural = _("supervisor scopes")

    def __str__(self) -> str:
        return str(self.user)


class SupervisorAction(models.Model):
    """One supervisor action on an agent (what, by whom, on whom, how many chats it moved)."""

    class Kind(models.TextChoices):
        HAND_BACK_ALL = "hand_back_all", _("Handed all open chats back to rotation")
        SET_AWAY = "set_away", _("Set away")
        SET_AVAILABLE = "set_available", _("Set available")
        END_SESSIONS = "end_sessions", _("Ended sessions")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("supervisor"),
    )
    agent = models.ForeignKey(
        "agents.Agent",
        on_delete=models.CASCADE,
        related_name="supervisor_actions",
        verbose_name=_("agent"),
    )
    kind = models.CharField(_("action"), max_length=16, choices=Kind)
    chats_moved = models.PositiveIntegerField(_("chats moved"), default=0)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("supervisor action")
        verbose_name_plural = _("supervisor actions")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.agent}"
