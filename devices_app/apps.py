from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesAppConfig(AppConfig):
    name = "devices_app"
    verbose_name = _("Devices")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deployment checks)
