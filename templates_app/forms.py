"""Forms for the agent's tools: an ad hoc poll."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import MAX_POLL_CHOICES, MIN_POLL_CHOICES
from .services import POLL_QUESTION_MAX_LENGTH, PollSpec, poll_spec_build


class ChoicesWidget(forms.Textarea):
    """One choice per line in a textarea, or several inputs sharing the field's name."""

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            values = data.getlist(name)
            if len(values) > 1:
                return values
        return data.get(name)

    def format_value(self, value):
        # Re-shown after an error as the agent typed it, one choice per line.
        if isinstance(value, list | tuple):
            value = "\n".join(str(item) for item in value)
        return super().format_value(value)


class ChoicesField(forms.Field):
    widget = ChoicesWidget

    def to_python(self, value) -> list[str]:
        if value in self.empty_values:
            return []
        if isinstance(value, str):
            return value.splitlines()
        return [str(item) for item in value]


class PollForm(forms.Form):
    """An ad hoc poll. After `is_valid()`, `form.spec` is the normalized PollSpec."""

    question = forms.CharField(
        label=_("Question"),
        # Checked after trimming by poll_spec_build; the browser limit is a courtesy.
        widget=forms.TextInput(attrs={"maxlength": POLL_QUESTION_MAX_LENGTH}),
    )
    choices = ChoicesField(
        label=_("Choices"),
        help_text=_("One per line, %(min)d to %(max)d, without commas.")
        % {"min": MIN_POLL_CHOICES, "max": MAX_POLL_CHOICES},
    )
    select = forms.ChoiceField(
        label=_("Answers"),
        choices=[("single", _("One answer")), ("multiple", _("Several answers"))],
        initial="single",
    )

    spec: PollSpec | None = None

    def clean(self):
        cleaned = super().clean()
        if "question" not in cleaned or "choices" not in cleaned or "select" not in cleaned:
            return cleaned
        try:
            self.spec = poll_spec_build(
                question=cleaned["question"],
                choices=cleaned["choices"],
                multiple=cleaned["select"] == "multiple",
            )
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                self.add_error(field, errors)
        return cleaned
