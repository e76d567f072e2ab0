"""Tasks of the assignment flow (queue drain safety net)."""
