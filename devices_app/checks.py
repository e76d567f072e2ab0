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


@register(Tags.security, deploy=True)
def production_exposure_check(app_configs, **kwargs) -> list[Warning]:
    """Development conveniences that expose a production desk (docs/SECURITY.md)."""
    problems = []
    if "*" in settings.ALLOWED_HOSTS:
        problems.append(
            Warning(
                "DJANGO_ALLOWED_HOSTS is '*': Sapa answers to any Host header, so links it "
                "builds from the request can point anywhere, and a WebSocket is accepted from a "
                "page whose origin merely repeats the Host it sent.",
                hint="List the host names Sapa is reached at in DJANGO_ALLOWED_HOSTS.",
                id="sapa.W003",
            )
        )
    if settings.SANDBOX_ENABLED:
        problems.append(
            Warning(
                "The sandbox gateway is on: its public customer page lets anyone write to "
                "sandbox devices as a customer, and its device connect/disconnect buttons work "
                "without a login.",
                hint="Set SANDBOX_ENABLED=false in production.",
                id="sapa.W004",
            )
        )
    if settings.MEDIA_ALLOW_PRIVATE_URLS:
        problems.append(
            Warning(
                "MEDIA_ALLOW_PRIVATE_URLS is on: attachment links (from agents and from gateway "
                "webhooks) may point at this machine and its private network, and Sapa fetches "
                "them (server-side request forgery).",
                hint="Set MEDIA_ALLOW_PRIVATE_URLS=false in production.",
                id="sapa.W005",
            )
        )
    return problems
