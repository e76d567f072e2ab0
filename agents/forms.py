from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _

from .timezones import time_zone_choices, time_zone_choices_short


class AgentLoginForm(forms.Form):
    device_number = forms.CharField(
        label=_("Device number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "inputmode": "tel", "autofocus": True}
        ),
        help_text=_("The WhatsApp number you answer for, e.g. 0812 3456 7890."),
    )
    token = forms.CharField(
        label=_("Token"),
        max_length=128,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Your agent token, from your administrator."),
    )

    # One message for every failure: it must not reveal whether the number or the token was wrong.
    error_message = _("That device number and token do not match an active agent.")

    def __init__(self, request, *args, **kwargs) -> None:
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict:
        cleaned = super().clean()
        number, token = cleaned.get("device_number"), cleaned.get("token")
        if number and token:
            self.user = authenticate(self.request, device_number=number, token=token)
            if self.user is None:
                raise forms.ValidationError(self.error_message, code="invalid_login")
        return cleaned


class TimeZoneForm(forms.Form):
    invalid_choice_message = _(
        "“%(value)s” is not a time zone. Choose one from the list, e.g. Asia/Jakarta."
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Dates and times in the workspace are shown in this zone."),
        error_messages={"invalid_choice": invalid_choice_message},
    )

    def __init__(self, *args, short: bool = False, **kwargs) -> None:
        """`short`: Indonesia's zones and the agent's own only, for the header's menu on every
        page (the full list is ~600 options); the preferences page has them all."""
        super().__init__(*args, **kwargs)
        self.short = short
        self.fields["time_zone"].choices = (
            time_zone_choices_short(current=self.initial.get("time_zone", ""))
            if short
            else time_zone_choices()
        )
