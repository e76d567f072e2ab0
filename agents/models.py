from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .timezones import default_time_zone, validate_time_zone


class User(AbstractUser):
    """Staff log in with a username and password; agents through their Agent (device + token)."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


# The fields an open socket depends on (agents.access): a change of access (active, token) closes
# the agent's sockets for good; a move (division, device, time zone) makes them reconnect.
WATCHED_FIELDS = {"is_active", "token_hash", "division", "device", "time_zone"}


class AgentQuerySet(models.QuerySet):
    def with_access(self) -> AgentQuerySet:
        """Agents who may work now: active, with an active user (the user admin's "Active"
        box and the agent's own are both switches of access)."""
        return self.filter(is_active=True, user__is_active=True)

    def update(self, **kwargs) -> int:
        # A queryset update sends no model signals: read the rows' access before and after, so
        # that revoking access this way closes the sockets too (agents.access).
        if not {k.removesuffix("_id") for k in kwargs} & WATCHED_FIELDS:
            return super().update(**kwargs)
        from .access import access_compare, access_read

        ids = list(self.values_list("pk", flat=True))
        before = access_read(agent_ids=ids)
        count = super().update(**kwargs)
        access_compare(before=before, after=access_read(agent_ids=ids))
        return count


class Agent(models.Model):
    """A person who answers chats. Belongs to exactly one division; logs in with a device."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agent",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=80)
    device = models.ForeignKey(
        "devices_app.Device",
        on_delete=models.PROTECT,
        related_name="agents",
        verbose_name=_("logs in with device"),
    )
    division = models.ForeignKey(
        "divisions.Division",
        on_delete=models.PROTECT,
        related_name="agents",
        verbose_name=_("division"),
    )
    # SHA-256 of the token: unique and indexed, so a login is one lookup.
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    token_hint = models.CharField(_("token ends with"), max_length=8, blank=True, editable=False)
    token_created_at = models.DateTimeField(_("token created"), null=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    max_open_chats = models.PositiveSmallIntegerField(
        _("open chats limit"),
        null=True,
        blank=True,
        help_text=_("Overrides the division's limit for this agent. Empty uses the division's."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Preferences the agent sets in the workspace header (an admin may set them too).
    notifications_muted = models.BooleanField(
        _("notifications muted"),
        default=False,
        help_text=_(
            "No sound and no desktop notifications; the tab title still counts new messages."
        ),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text=_("Dates and times in the workspace are shown in this zone."),
    )

    objects = AgentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        indexes = [models.Index(fields=["division", "is_active"], name="agent_division_active")]

    def __str__(self) -> str:
        return self.name

    @property
    def has_access(self) -> bool:
        """Active, with an active user: what `AgentQuerySet.with_access` selects."""
        return self.is_active and self.user.is_active
