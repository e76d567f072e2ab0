"""Template helpers for the reply box's tools and what they show in the thread."""

from __future__ import annotations

from django import template
from django.utils.text import Truncator
from django.utils.translation import gettext

from devices_app.gateways import registry
from devices_app.gateways.base import Capabilities

from ..media import PREVIEW_IMAGE_EXTENSIONS, extension_of
from ..media import attachment_limits as gateway_attachment_limits
from ..models import Message

register = template.Library()

QUOTE_SNIPPET_LENGTH = 90


@register.filter
def is_image(message: Message) -> bool:
    """Whether a stored attachment is an image to preview inline."""
    if not message.attachment_file:
        return False
    if message.attachment_content_type:
        return message.attachment_content_type.startswith("image/")
    extension = message.attachment_extension or extension_of(
        message.attachment_name or message.attachment_file.name
    )
    return extension.lower() in PREVIEW_IMAGE_EXTENSIONS


@register.filter
def quote_author(message: Message) -> str:
    """Who wrote a quoted message: the customer (or the group member), or the agent."""
    if message.direction == Message.Direction.IN:
        contact = message.conversation.contact
        return message.author_name or message.author_address or str(contact)
    if message.sender_agent is not None:
        return message.sender_agent.name
    return message.author_name or gettext("Agent")


@register.filter
def quote_snippet(message: Message) -> str:
    """A quoted message in one short line: its first line of text, else what it carries."""
    for line in (message.text or "").splitlines():
        if line.strip():
            return Truncator(line.strip()).chars(QUOTE_SNIPPET_LENGTH)
    if message.poll_name:
        return f"{gettext('Poll')}: {Truncator(message.poll_name).chars(QUOTE_SNIPPET_LENGTH)}"
    if message.location_lat is not None:
        return gettext("Location")
    if message.attachment_name or message.attachment_url or message.attachment_file:
        name = message.attachment_name
        return f"{gettext('Attachment')}: {name}" if name else gettext("Attachment")
    return ""


@register.simple_tag
def attachment_limits() -> dict:
    """What the browser checks before an upload; the server checks again (chats.media)."""
    limits = gateway_attachment_limits()
    extensions = sorted(limits.file_extensions)
    return {
        "accept": ",".join(f".{ext}" for ext in extensions),
        "extensions": ", ".join(extensions),
        "max_bytes": limits.max_upload_bytes,
    }


@register.simple_tag
def device_capabilities(device) -> Capabilities:
    """What the device's gateway can carry out: the reply box offers only those tools, and the
    thread offers quoting only when the gateway quotes (docs/ARCHITECTURE.md "Capabilities")."""
    return registry.capabilities_for(device)
