"""Webhook URLs match with and without a trailing slash: APPEND_SLASH would answer a POST with
a redirect, and the gateway's retry would lose the body."""

from __future__ import annotations

from django.urls import re_path

from . import webhooks
from .gateways.base import WEBHOOK_KINDS
from .gateways.registry import ADAPTERS

urlpatterns = [
    re_path(
        rf"^hooks/(?P<gateway>{'|'.join(ADAPTERS)})/(?P<key>[A-Za-z0-9_-]{{1,64}})/"
        rf"(?P<kind>{'|'.join(WEBHOOK_KINDS)})/?$",
        webhooks.gateway_webhook,
        name="gateway_webhook",
    ),
]
