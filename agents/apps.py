from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = _("Agents and users")

    def ready(self) -> None:
        # Receivers that end sockets and presence on every path that revokes access.
        from . import access  # noqa: F401
