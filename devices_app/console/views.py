"""The device console's views, served inside the admin (devices_app/console/admin.py wraps each
in `admin_site.admin_view` and checks the change permission). Each parses its input, calls one
console service and renders a partial (docs/ARCHITECTURE.md "The device console")."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from divisions.models import Division

from ..gateways import registry
from ..models import Device
from . import services
from .facts import facts_for

# htmx stops polling an element whose answer has this status (the device is connected).
HTMX_STOP_POLLING = 286


def console_context(device: Device) -> dict:
    adapter = registry.gateway_for(device)
    return {
        "device": device,
        "adapter": adapter,
        "operations": services.operations_for(device),
        "operations_now": services.operations_fitting(device),
        "webhooks": services.webhook_rows(device),
        "public_url_problem": services.public_url_problem(),
        "delete_needs_code": facts_for(device.gateway).delete_needs_code,
        "profile_stale": adapter.capabilities.profile
        and device.is_active
        and not services.profile_is_fresh(device),
        "qr_refresh_seconds": settings.GATEWAY_QR_REFRESH_SECONDS,
    }


def _device(pk: int) -> Device:
    return get_object_or_404(Device.objects.select_related("division"), pk=pk)


@require_GET
def console_card(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "devices_app/console/card_refresh.html", console_context(_device(pk)))


@require_GET
def console_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """The QR panel, polled until the device is connected."""
    device = _device(pk)
    renewal = _renewal(request)
    if device.status == Device.Status.CONNECTED:
        answer = services.Answer(ok=True, data={"connected": True})
    elif renewal > settings.GATEWAY_QR_MAX_RENEWALS:
        # Nobody scanned for minutes: stop asking the gateway until someone presses again.
        answer = services.Answer(ok=False, data={"expired": True})
    else:
        answer = services.device_qr_get(device=device)
    return _qr_panel(request, device, answer, renewal=renewal)


def _renewal(request: HttpRequest) -> int:
    raw = request.GET.get("renewal", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else 0


def _qr_panel(
    request: HttpRequest, device: Device, answer: services.Answer, renewal: int = 0
) -> HttpResponse:
    context = {**console_context(device), "answer": answer, "next_renewal": renewal + 1}
    status = HTMX_STOP_POLLING if answer.data.get("connected") and request.htmx else 200
    return render(request, "devices_app/console/qr.html", context, status=status)


class PairingForm(forms.Form):
    phone = forms.CharField(label=_("Phone number on the device"), max_length=32, required=False)


class OtpForm(forms.Form):
    otp = forms.CharField(label=_("Code from the gateway"), max_length=12, required=False)


@require_POST
def console_operation(request: HttpRequest, pk: int, operation: str) -> HttpResponse:
    """Run one operation the device's gateway offers; answer the result line with the
    connection card swapped in beside it (and the QR panel for the connect operations)."""
    device = _device(pk)
    if not services.offers(device, operation):
        raise Http404("operation not offered by this gateway")
    if operation == "qr":
        return _qr_panel(request, device, services.device_qr_get(device=device))
    if operation == "pairing":
        form = PairingForm(request.POST)
        phone = form.cleaned_data["phone"] if form.is_valid() else ""
        answer = services.device_pairing_code_get(device=device, phone=phone)
        return _qr_panel(request, device, answer)
    if operation == "delete":
        otp = OtpForm(request.POST)
        code = otp.cleaned_data["otp"] if otp.is_valid() else ""
        if request.POST.get("step") == "request":
            answer = services.device_delete_code_request(device=device)
        else:
            answer = services.device_delete_confirm(device=device, otp=code)
    else:
        run = {
            "profile": lambda: services.device_profile_refresh(device=device, max_age=None),
            "start": lambda: services.device_session_start(device=device),
            "reconnect": lambda: services.device_reconnect(device=device),
            "logout": lambda: services.device_logout(device=device),
            "webhooks": lambda: services.device_webhooks_configure(device=device),
        }[operation]
        answer = run()
    device.refresh_from_db()
    context = {**console_context(device), "answer": answer, "operation": operation}
    return render(request, "devices_app/console/result.html", context)


class ImportForm(forms.Form):
    title = _("Import devices from a gateway account")

    gateway = forms.ChoiceField(label=_("Gateway"))
    account_token = forms.CharField(
        label=_("Account token"),
        required=False,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "off"}),
        help_text=_(
            "Fonnte: Settings → Account token. Sapa uses it only to list the account's devices "
            "and does not keep it."
        ),
    )
    division = forms.ModelChoiceField(
        label=_("Route their chats to division"), queryset=Division.objects.all()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gateway"].choices = [
            (kind, adapter.label)
            for kind, adapter in registry.ADAPTERS.items()
            if adapter.capabilities.device_list
        ]


@require_http_methods(["GET", "POST"])
def account_import(request: HttpRequest, *, admin_context: dict) -> HttpResponse:
    """List the gateway account's devices, then create the chosen ones with their tokens."""
    form = ImportForm(request.POST or None)
    context = {**admin_context, "form": form, "listed": None}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "import" in request.POST:
            answer = services.account_devices_import(
                gateway=data["gateway"],
                account_token=data["account_token"],
                numbers=request.POST.getlist("number"),
                division=data["division"],
            )
            if answer.ok:
                messages.success(request, answer.message)
                return redirect("admin:devices_app_device_changelist")
        else:
            answer = services.account_devices_list(
                gateway=data["gateway"], account_token=data["account_token"]
            )
        context.update(answer=answer, listed=answer.data.get("devices"))
    return render(request, "admin/devices_app/device/import.html", context)
