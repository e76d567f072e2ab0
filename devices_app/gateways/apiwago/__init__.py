"""ApiWago, the self-hosted `tokalink/apigowa` (docs/ARCHITECTURE.md "ApiWago's protocol").

- api.py: its HTTP API (sends, session and device operations) and the classification of answers
- webhooks.py: its webhook bodies (messages, receipts) → normalized events
- adapter.py: the gateway interface over both
This package holds every ApiWago field name, route and error word Sapa knows.
"""

from .adapter import ApiWagoGateway

__all__ = ["ApiWagoGateway"]
