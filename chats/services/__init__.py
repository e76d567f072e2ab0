"""Writes and pushes for chats, one module per flow:

- assignment: who gets a conversation (rotation, queue, sticky, transfer)
- inbound: webhooks → contacts, conversation episodes, messages
- outbound: agent replies → queued message → send task → delivery status
"""
