"""One adapter per gateway provider.

- events.py: the normalized inbound events every webhook parser produces
- fonnte_webhooks.py: Fonnte webhook bodies → events
- fonnte_send.py: Fonnte's send API (also used for the sandbox gateway, which speaks Fonnte)
"""
