"""Tasks of the outbound flow (send, sweep)."""
