"""Webhook URLs match with and without a trailing slash: APPEND_SLASH would answer a POST with
a redirect, and the gateway's retry would lose the body."""

from __future__ import annotations

from django.urls import re_path

from . import webhooks

urlpatterns = [
    re_path(
        r"^hooks/(?P<gateway>fonnte|sandbox)/(?P<key>[A-Za-z0-9_-]{1,64})/"
        r"(?P<kind>incoming|status|connect)/?$",
        webhooks.fonnte_webhook,
        name="fonnte_webhook",
    ),
]
