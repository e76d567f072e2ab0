"""HTTP through Django; WebSockets through the origin check and the session of the HTTP login."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from chats.routing import websocket_urlpatterns as chats_sockets  # noqa: E402
from config.websocket_security import SameOriginValidator, UnknownPathConsumer  # noqa: E402
from supervision.routing import websocket_urlpatterns as supervision_sockets  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(
            AuthMiddlewareStack(
                URLRouter(
                    [
                        *chats_sockets,
                        *supervision_sockets,
                        re_path(r"", UnknownPathConsumer.as_asgi()),
                    ]
                )
            )
        ),
    }
)
