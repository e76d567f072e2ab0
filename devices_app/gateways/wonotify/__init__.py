"""wonotify (docs/ARCHITECTURE.md "wonotify's protocol"). Experimental: undocumented webhooks.

- api.py: its HTTP API (send, send_group, instance operations) and the classification of answers
- webhooks.py: the documented event names and the Waziper shape → normalized events
- adapter.py: the gateway interface over both
"""

from .adapter import WonotifyGateway

__all__ = ["WonotifyGateway"]
