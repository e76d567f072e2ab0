from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .models import Device
from .phone import InvalidNumber, normalize_number
from .services import device_webhook_key_rotate


class DeviceForm(forms.ModelForm):
    # Credentials are write-only: the form never renders the stored token back.
    gateway_token = forms.CharField(
        label=_("Gateway token"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Device
        fields = [
            "name",
            "number",
            "gateway",
            "gateway_token",
            "gateway_instance",
            "division",
            "is_active",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A new device has no token to keep.
            self.fields["gateway_token"].help_text = _("Leave empty to keep the current token.")

    def clean_number(self) -> str:
        try:
            return normalize_number(self.cleaned_data["number"])
        except InvalidNumber as exc:
            raise forms.ValidationError(
                _("Enter a valid WhatsApp number, e.g. 0812 3456 7890.")
            ) from exc

    def clean_gateway_token(self) -> str:
        token = self.cleaned_data.get("gateway_token", "")
        if not token and self.instance.pk:
            return self.instance.gateway_token
        return token


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    form = DeviceForm
    list_display = [
        "name",
        "display_number",
        "gateway",
        "division",
        "status",
        "status_changed_at",
        "is_active",
    ]
    list_filter = ["gateway", "status", "division", "is_active"]
    search_fields = ["name", "number"]
    list_select_related = ["division"]
    readonly_fields = [
        "current_token",
        "webhook_urls",
        "status",
        "status_reason",
        "status_changed_at",
        "quota",
        "package",
        "expires",
        "created_at",
    ]
    actions = ["rotate_webhook_keys"]

    @admin.display(description=_("Current token"))
    def current_token(self, obj: Device) -> str:
        return obj.masked_gateway_token or "—"

    @admin.display(description=_("Webhook URLs (paste into the gateway's device settings)"))
    def webhook_urls(self, obj: Device) -> str:
        if not obj.pk:
            return "—"
        base = f"{settings.PUBLIC_BASE_URL}/hooks/{obj.gateway}/{obj.webhook_key}"
        rows = [
            (_("Incoming messages"), f"{base}/incoming"),
            (_("Message status"), f"{base}/status"),
            (_("Connection"), f"{base}/connect"),
        ]
        return format_html(
            "<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd><code>{}</code></dd>", rows)
        )

    @admin.action(description=_("Rotate webhook keys (the old webhook URLs stop working)"))
    def rotate_webhook_keys(self, request, queryset):
        for device in queryset:
            device_webhook_key_rotate(device=device)
        messages.success(
            request, _("New webhook keys issued. Update the URLs in each gateway's settings.")
        )
