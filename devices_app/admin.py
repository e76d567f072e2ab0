from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .console.admin import DeviceConsoleAdminMixin
from .console.services import gateway_token_refusal
from .models import Device, UnparsedWebhook
from .pacing import default_pacing
from .phone import InvalidNumber, normalize_number
from .services import device_webhook_key_rotate

PACING_FIELDS = [
    "send_rate_per_minute",
    "send_burst",
    "send_gap_min_seconds",
    "send_gap_max_seconds",
]


def _format_number(value: float) -> str:
    return f"{value:g}"


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
            *PACING_FIELDS,
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A new device has no token to keep.
            self.fields["gateway_token"].help_text = _("Leave empty to keep the current token.")
        # An empty field means "the default": show what that is, in the field and under it.
        default = default_pacing()
        defaults = {
            "send_rate_per_minute": _format_number(default.rate * 60),
            "send_burst": str(default.burst),
            "send_gap_min_seconds": _format_number(default.gap_min),
            "send_gap_max_seconds": _format_number(default.gap_max),
        }
        for name, value in defaults.items():
            field = self.fields[name]
            field.widget.attrs["placeholder"] = value
            default_text = _("Empty: the default, %(value)s.") % {"value": value}
            field.help_text = f"{field.help_text} {default_text}".strip()

    def clean_number(self) -> str:
        try:
            return normalize_number(self.cleaned_data["number"])
        except InvalidNumber as exc:
            raise forms.ValidationError(
                _("Enter a valid WhatsApp number, e.g. 0812 3456 7890.")
            ) from exc

    def clean_gateway_token(self) -> str:
        token = self.cleaned_data.get("gateway_token", "").strip()
        if not token and self.instance.pk:
            return self.instance.gateway_token
        return token

    def clean(self):
        cleaned = super().clean()
        # A new or changed token (or gateway, or number) is checked with the gateway before it
        # is saved: a wrong one is refused now, in the gateway's words, not when a reply fails.
        # (The instance still holds the stored values here: the form updates it after clean.)
        before = self.instance
        changed = not before.pk or any(
            cleaned.get(name) != getattr(before, name)
            for name in ("gateway_token", "gateway", "number")
        )
        if not self.errors and changed:
            refusal = gateway_token_refusal(
                gateway=cleaned.get("gateway", ""),
                token=cleaned.get("gateway_token", ""),
                number=cleaned.get("number", ""),
                name=cleaned.get("name", ""),
            )
            if refusal:
                self.add_error("gateway_token", refusal)
        return cleaned


@admin.register(Device)
class DeviceAdmin(DeviceConsoleAdminMixin, admin.ModelAdmin):
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

    def get_fieldsets(self, request, obj=None):
        # The pace in its own section; everything else as the admin lays it out by default.
        (name, options), *rest = super().get_fieldsets(request, obj)
        main = [field for field in options["fields"] if field not in PACING_FIELDS]
        pace = (
            _("Sending pace"),
            {
                "fields": PACING_FIELDS,
                "description": _(
                    "How fast this device sends replies, to stay clear of WhatsApp's spam "
                    "limits. Changes apply to the next reply, without a restart."
                ),
            },
        )
        return [(name, {**options, "fields": main}), pace, *rest]

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


@admin.register(UnparsedWebhook)
class UnparsedWebhookAdmin(admin.ModelAdmin):
    """Webhook bodies Sapa could not read (devices_app.services.unparsed_webhook_keep): staff
    read them to see what a gateway really sends; nothing here can be edited."""

    list_display = ["received_at", "device", "gateway", "kind", "reason", "body_size"]
    list_filter = ["gateway", "kind", "device"]
    search_fields = ["reason", "body"]
    list_select_related = ["device"]
    date_hierarchy = "received_at"
    fields = [
        "received_at",
        "device",
        "gateway",
        "kind",
        "content_type",
        "reason",
        "body_size",
        "body_display",
    ]
    readonly_fields = fields

    @admin.display(description=_("Body"))
    def body_display(self, obj: UnparsedWebhook) -> str:
        return format_html('<pre class="unparsed-webhook-body">{}</pre>', obj.body)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
