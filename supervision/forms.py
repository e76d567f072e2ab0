from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from agents.timezones import time_zone_choices


class TransferForm(forms.Form):
    to_agent = forms.ModelChoiceField(
        label=_("To an agent"), queryset=None, required=False, empty_label=_("— nobody —")
    )
    to_division = forms.ModelChoiceField(
        label=_("Or to a division's rotation"),
        queryset=None,
        required=False,
        empty_label=_("— none —"),
    )
    note = forms.CharField(
        label=_("Note for the new holder (internal)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, agents, divisions, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_agent"].queryset = agents
        self.fields["to_division"].queryset = divisions

    def clean(self) -> dict:
        cleaned = super().clean()
        if bool(cleaned.get("to_agent")) == bool(cleaned.get("to_division")):
            raise forms.ValidationError(_("Choose either an agent or a division."))
        return cleaned


class SupervisorTimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(label=_("Time zone"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()
