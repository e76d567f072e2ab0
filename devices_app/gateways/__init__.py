"""Gateway adapters: pure protocol code below the core (docs/ARCHITECTURE.md "Layers").

- base.py: the interface every adapter implements (GatewayAdapter, Outgoing, SendResult,
  Capabilities, OperationResult) and the reasons Sapa writes itself
- events.py: the normalized inbound events every webhook parser produces
- registry.py: `Device.gateway` → adapter; the only module the core imports besides the two above
- http.py: the shared HTTP client and what a transport failure or status code means
- fonnte/: Fonnte (send, webhooks, device APIs); sandbox.py: Fonnte's protocol to Sapa's own
  simulator; apiwago.py, wonotify.py: registered, cannot send yet
"""
