"""The realtime publisher: typed events to the channel layer's groups (docs/ARCHITECTURE.md).

A base-layer package: services of any app (agents, chats, devices) publish through it, and it
imports none of them, so no app needs to import `chats` to push.
"""
