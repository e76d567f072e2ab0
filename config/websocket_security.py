"""What a WebSocket handshake must pass before a consumer sees it (docs/SECURITY.md).

Channels' AllowedHostsOriginValidator compares only the Origin's host name with ALLOWED_HOSTS:
it ignores scheme and port (a page on http://desk.example:8080 could open a socket to
https://desk.example) and, with `DJANGO_ALLOWED_HOSTS=*`, accepts every origin, so any web page
a logged-in agent visits could read their chats over the socket (the session cookie goes
along). The rule here is the one Django's CSRF check uses for forms: the Origin must be this
site itself — scheme, host and port equal to the handshake's own (wss ↔ https, ws ↔ http) —
or one of CSRF_TRUSTED_ORIGINS (which holds PUBLIC_BASE_URL by default, for a TLS proxy).

A handshake without a Host header (HTTP/1.0 clients; Channels' test communicator) falls back
to Channels' rule without its wildcard: the Origin's host must be named in ALLOWED_HOSTS.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_tuple(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def _trusted(origin: tuple[str, str, int]) -> bool:
    for trusted_url in settings.CSRF_TRUSTED_ORIGINS:
        scheme, _, netloc = trusted_url.partition("://")
        if netloc.startswith("*."):
            # Django's subdomain wildcard: https://*.example.com
            suffix = _origin_tuple(f"{scheme}://{netloc[2:]}")
            if (
                suffix
                and (origin[0], origin[2]) == (suffix[0], suffix[2])
                and origin[1].endswith("." + suffix[1])
            ):
                return True
            continue
        if _origin_tuple(trusted_url) == origin:
            return True
    return False


def origin_allowed(scope) -> bool:
    headers = dict(scope.get("headers") or [])
    origin = _origin_tuple(headers.get(b"origin", b"").decode("latin-1"))
    if origin is None:
        return False
    if _trusted(origin):
        return True
    host_header = headers.get(b"host", b"").decode("latin-1").lower()
    if not host_header:
        allowed = [host for host in settings.ALLOWED_HOSTS if host != "*"]
        name = f"[{origin[1]}]" if ":" in origin[1] else origin[1]
        return validate_host(name, allowed)
    host, port = split_domain_port(host_header)
    if not host or not validate_host(host, settings.ALLOWED_HOSTS):
        return False
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    own = (scheme, host.strip("[]"), int(port) if port.isdigit() else DEFAULT_PORTS[scheme])
    return origin == own


class SameOriginValidator:
    """ASGI middleware: refuse (HTTP 403 to the handshake) a socket from another origin."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


class UnknownPathConsumer(WebsocketDenier):
    """The last route: a socket to a path Sapa does not serve is refused with 403, instead of
    Channels' "No route found" error (a 500 and a traceback logged at ERROR for each probe)."""
