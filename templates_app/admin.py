from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Poll, QuickReply, validate_poll_choices


@admin.register(QuickReply)
class QuickReplyAdmin(admin.ModelAdmin):
    list_display = ["shortcut", "title", "division", "has_attachment", "has_location", "is_active"]
    list_filter = ["is_active", "division"]
    search_fields = ["shortcut", "title", "text"]

    @admin.display(boolean=True, description=_("attachment"))
    def has_attachment(self, obj: QuickReply) -> bool:
        return bool(obj.attachment_url or obj.attachment_file)

    @admin.display(boolean=True, description=_("location"))
    def has_location(self, obj: QuickReply) -> bool:
        return obj.location_lat is not None


class ChoicesField(forms.CharField):
    """Poll choices edited one per line, stored as a list."""

    widget = forms.Textarea(attrs={"rows": 6})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def validate(self, value):
        super().validate(value)
        validate_poll_choices(value)


class PollForm(forms.ModelForm):
    choices = ChoicesField(label=_("Choices"), help_text=_("One per line, 2 to 12, no commas."))

    class Meta:
        model = Poll
        fields = ["name", "choices", "multiple", "division", "is_active"]


@admin.register(Poll)
class PollAdmin(admin.ModelAdmin):
    form = PollForm
    list_display = ["name", "choice_count", "multiple", "division", "is_active"]
    list_filter = ["is_active", "multiple", "division"]
    search_fields = ["name"]

    @admin.display(description=_("choices"))
    def choice_count(self, obj: Poll) -> int:
        return len(obj.choices)
