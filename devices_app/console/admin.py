"""The console's part of the Device admin: its URLs, the change page's console panel and the
import page. A mixin, so the admin's fields and fieldsets stay the admin's own."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import path

from . import views

CONSOLE_SHOWN = {
    "webhook_urls",
    "status",
    "status_reason",
    "status_changed_at",
    "quota",
    "package",
    "expires",
}


class DeviceConsoleAdminMixin:
    change_form_template = "admin/devices_app/device/console_change_form.html"
    change_list_template = "admin/devices_app/device/console_change_list.html"

    def get_urls(self):
        def staff_view(view, permission):
            def guarded(request, *args, **kwargs):
                if not permission(request):
                    raise PermissionDenied
                return view(request, *args, **kwargs)

            return self.admin_site.admin_view(guarded)

        can_change = self.has_change_permission
        can_add = self.has_add_permission
        import_view = staff_view(self.import_view, can_add)
        return [
            path(
                "<int:pk>/console/card/",
                staff_view(views.console_card, can_change),
                name="devices_app_device_console_card",
            ),
            path(
                "<int:pk>/console/qr/refresh/",
                staff_view(views.console_qr, can_change),
                name="devices_app_device_console_qr",
            ),
            path(
                "<int:pk>/console/<slug:operation>/",
                staff_view(views.console_operation, can_change),
                name="devices_app_device_console_operation",
            ),
            path("import/", import_view, name="devices_app_device_import"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        device = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if device is not None:
            context.update(views.console_context(device))
        return super().change_view(request, object_id, form_url, extra_context=context)

    def import_view(self, request):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": views.ImportForm.title,
        }
        return views.account_import(request, admin_context=context)

    def get_readonly_fields(self, request, obj=None):
        # The console's connection card and webhook panel show these, live and with copy
        # buttons: the form does not repeat them.
        shown = super().get_readonly_fields(request, obj)
        return [name for name in shown if name not in CONSOLE_SHOWN]
