"""Deployment checks (`manage.py check --deploy`) for the settings gateways depend on."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


@register(Tags.security, deploy=True)
def public_base_url_check(app_configs, **kwargs) -> list[Warning]:
    """The gateway fetches outgoing uploads from signed links under PUBLIC_BASE_URL, and the
    session and CSRF cookies are marked secure only when it is https."""
    url = urlsplit(settings.PUBLIC_BASE_URL)
    problems = []
    if url.scheme != "https":
        problems.append(
            Warning(
                "PUBLIC_BASE_URL is not https: session cookies are not marked secure and no "
                "HSTS header is sent.",
                hint="Serve Sapa over https behind a proxy and set PUBLIC_BASE_URL=https://….",
                id="sapa.W001",
            )
        )
    if url.hostname in LOOPBACK_HOSTS:
        problems.append(
            Warning(
                "PUBLIC_BASE_URL points at this machine only: the gateway cannot download "
                "attachments agents upload.",
                hint="Set PUBLIC_BASE_URL to the address the gateway reaches Sapa at.",
                id="sapa.W002",
            )
        )
    return problems
