from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .coordinates import decimal_from_text, pair_from_text
from .models import Poll, QuickReply, validate_poll_choices


class CoordinateField(forms.DecimalField):
    """A text box, not `<input type=number>` (which refuses "-6,2088" and a pasted pair), read
    with a decimal point or a decimal comma."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        return {"inputmode": "decimal"}

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        number = decimal_from_text(value)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        # Maps copy up to 15 decimals; 6 (about 10 cm) is what the row keeps. Out-of-range
        # numbers are left to the min/max check (quantizing 1e100 would overflow).
        if abs(number) <= 180:
            number = number.quantize(Decimal("0.000001"))
        return number


class QuickReplyForm(forms.ModelForm):
    location_lat = CoordinateField(
        label=_("latitude"),
        required=False,
        min_value=-90,
        max_value=90,
        help_text=_("A decimal comma is fine. Paste “latitude, longitude” here to fill both."),
    )
    location_lng = CoordinateField(
        label=_("longitude"), required=False, min_value=-180, max_value=180
    )

    class Meta:
        model = QuickReply
        fields = [
            "shortcut",
            "title",
            "text",
            "attachment_url",
            "attachment_file",
            "location_lat",
            "location_lng",
            "division",
            "is_active",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A pair pasted into the latitude box (as maps copy it) fills both fields.
        if self.is_bound:
            lat_key, lng_key = self.add_prefix("location_lat"), self.add_prefix("location_lng")
            pair = pair_from_text(self.data.get(lat_key))
            if pair and not (self.data.get(lng_key) or "").strip():
                self.data = self.data.copy()
                self.data[lat_key], self.data[lng_key] = pair


@admin.register(QuickReply)
class QuickReplyAdmin(admin.ModelAdmin):
    form = QuickReplyForm
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
