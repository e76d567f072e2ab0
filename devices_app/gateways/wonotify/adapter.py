"""wonotify (PROTOCOLS.md §10): registered, not implemented.

Its capabilities say it cannot send, so the workspace shows why instead of a reply box (no reply
is stored that could only fail), and its webhooks answer 400 with the reason.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from ..base import Capabilities, GatewayAdapter


class WonotifyGateway(GatewayAdapter):
    kind = "wonotify"
    label = _("wonotify (experimental)")
    capabilities = Capabilities(
        can_send=False,
        cannot_send_reason=gettext_noop(
            "Sapa cannot send through wonotify yet, so replies to this device's chats are off."
        ),
    )
