from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MIN_POLL_CHOICES = 2
MAX_POLL_CHOICES = 12


class QuickReply(models.Model):
    """A reusable reply. Text may use {name}, {agent} and {device}."""

    shortcut = models.CharField(
        _("shortcut"),
        max_length=40,
        validators=[RegexValidator(r"^[a-z0-9_-]+$", _("Use lowercase letters, digits, - and _."))],
        help_text=_("Typed after “/” in the reply box."),
    )
    title = models.CharField(_("title"), max_length=80)
    text = models.TextField(_("text"), help_text=_("Variables: {name}, {agent}, {device}."))
    attachment_url = models.URLField(_("attachment URL"), blank=True)
    attachment_file = models.FileField(_("attachment file"), upload_to="quick-replies/", blank=True)
    location_lat = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    location_lng = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    division = models.ForeignKey(
        "divisions.Division",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="quick_replies",
        verbose_name=_("division"),
        help_text=_("Empty: available to every division."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["shortcut"]
        verbose_name = _("quick reply")
        verbose_name_plural = _("quick replies")
        constraints = [
            models.UniqueConstraint(
                fields=["shortcut"],
                condition=Q(division__isnull=True),
                name="quickreply_global_shortcut",
            ),
            models.UniqueConstraint(
                fields=["division", "shortcut"], name="quickreply_division_shortcut"
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"

    def clean(self) -> None:
        if (self.location_lat is None) != (self.location_lng is None):
            raise ValidationError(_("Give both latitude and longitude, or neither."))
        if self.attachment_url and self.attachment_file:
            raise ValidationError(_("Give an attachment URL or a file, not both."))


def validate_poll_choices(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise ValidationError(_("Choices must be a list of texts."))
    choices = [c.strip() for c in value]
    if not MIN_POLL_CHOICES <= len(choices) <= MAX_POLL_CHOICES:
        raise ValidationError(
            _("A poll needs %(min)d to %(max)d choices.")
            % {"min": MIN_POLL_CHOICES, "max": MAX_POLL_CHOICES}
        )
    if any(not c for c in choices):
        raise ValidationError(_("A choice cannot be empty."))
    # Fonnte sends choices as one comma-separated string: a comma would split a choice in two.
    if any("," in c for c in choices):
        raise ValidationError(_("A choice cannot contain a comma."))
    if len({c.casefold() for c in choices}) != len(choices):
        raise ValidationError(_("Choices must be different from each other."))


class Poll(models.Model):
    name = models.CharField(_("question"), max_length=255)
    choices = models.JSONField(_("choices"), default=list, validators=[validate_poll_choices])
    multiple = models.BooleanField(_("allow several answers"), default=False)
    division = models.ForeignKey(
        "divisions.Division",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="polls",
        verbose_name=_("division"),
        help_text=_("Empty: available to every division."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("poll")
        verbose_name_plural = _("polls")

    def __str__(self) -> str:
        return self.name
