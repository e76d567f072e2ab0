"""Rendering of socket pushes for one viewer (used by chats.consumers).

Each function re-reads the rows, re-checks that the viewer may see them *now* (a chat may have
just been transferred away), and renders the same partial templates the views use, in the
viewer's language and time zone. Sync code: consumers call it through database_sync_to_async.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation.trans_real import (
    get_supported_language_variant,
    parse_accept_lang_header,
)

from devices_app.models import Device
from rotation.models import AssignmentLog, LogNote, SkipReason

from .models import Message
from .selectors import (
    conversation_get_for_agent,
    conversation_tab_counts_for_agent,
    devices_concerning_agent,
    message_get_for_agent,
)
from .services.collision import collision_colleagues

LIVE = "chats/partials/live.html"


@dataclass(frozen=True)
class Viewer:
    agent_id: int
    division_id: int
    device_id: int
    language: str
    time_zone: str


def language_from_scope(scope: dict) -> str:
    """The language the page was rendered in: the language cookie, else Accept-Language."""
    candidates = []
    cookie = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME)
    if cookie:
        candidates.append(cookie)
    for name, value in scope.get("headers") or []:
        if name == b"accept-language":
            candidates += [code for code, _ in parse_accept_lang_header(value.decode("latin-1"))]
    for code in candidates:
        if code == "*":
            continue
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _render(viewer: Viewer, partial: str, context: dict) -> str:
    with translation.override(viewer.language), timezone.override(viewer.time_zone):
        return render_to_string(f"{LIVE}#{partial}", context)


def _tab_counts(viewer: Viewer) -> str:
    """The Mine / Queue counts on the inbox tabs, which every change of a row may move."""
    counts = conversation_tab_counts_for_agent(
        agent_id=viewer.agent_id, division_id=viewer.division_id
    )
    return _render(viewer, "counts", {"counts": counts})


def _gone(viewer: Viewer, conversation_id: int) -> str:
    """Remove a conversation the viewer may no longer see from their list and open thread."""
    return _render(
        viewer,
        "gone",
        {
            "conversation_id": conversation_id,
            "gone_oob": f"outerHTML:#thread-pane[data-conversation-id='{conversation_id}']",
        },
    ) + _tab_counts(viewer)


# Signals: what a push means to its viewer, for static/js/notify.js (sound, desktop notification,
# tab-title count). The consumer passes a hint; the kind is decided here, per viewer, after the
# permission check: a message only when it is a customer's message in a chat assigned to the
# viewer; an assignment is a transfer when the conversation's latest log row says so.
SIGNAL_MESSAGE = "message"
SIGNAL_NEW_CHAT = "new-chat"
SIGNAL_ASSIGNED = "assigned"  # a hint only: becomes "transfer" or "new-chat"
SIGNAL_TRANSFER = "transfer"


def _latest_assignment(conversation_id: int) -> AssignmentLog | None:
    return (
        AssignmentLog.objects.filter(conversation_id=conversation_id)
        .order_by("-created_at", "-id")
        .first()
    )


def _transferred_by(log: AssignmentLog) -> dict:
    """Who handed the chat over, from what the transfer left behind (the transfer event carries
    ids only): a supervisor when the log says so, else the transfer's note's author, else the
    agent who had the chat before (an agent may only transfer their own chats). No name when it
    cannot be told."""
    if LogNote.BY_STAFF in log.note.split(";"):
        return {"by_staff": True, "by_name": ""}
    if log.trigger == AssignmentLog.Trigger.HAND_BACK:
        # The rotation skipped the agent who handed it back, and logged their name.
        for row in log.skipped:
            if isinstance(row, dict) and row.get("reason") == SkipReason.HANDED_ON:
                return {"by_staff": False, "by_name": str(row.get("name") or "")}
    return {"by_staff": False, "by_name": _transferring_agent_name(log)}


def _transferring_agent_name(log: AssignmentLog) -> str:
    note = (
        Message.objects.filter(
            conversation_id=log.conversation_id,
            direction=Message.Direction.NOTE,
            created_at__gte=log.created_at,
        )
        .select_related("sender_agent")
        .order_by("created_at", "id")
        .first()
    )
    if note is not None:
        return note.sender_agent.name if note.sender_agent else note.author_name
    previous = (
        AssignmentLog.objects.filter(conversation_id=log.conversation_id, agent__isnull=False)
        .filter(Q(created_at__lt=log.created_at) | Q(created_at=log.created_at, id__lt=log.pk))
        .select_related("agent")
        .order_by("-created_at", "-id")
        .first()
    )
    if previous is None or previous.agent_id == log.agent_id:
        return ""
    return previous.agent.name


def _signal(viewer: Viewer, conversation, hint: str, message) -> str:
    if hint == SIGNAL_MESSAGE:
        if (
            message is None
            or message.direction != Message.Direction.IN
            or conversation.agent_id != viewer.agent_id
            or conversation.status != conversation.Status.OPEN
        ):
            return ""
        context = {"kind": SIGNAL_MESSAGE, "seq": f"message-{message.pk}", "message": message}
    elif hint == SIGNAL_ASSIGNED:
        if conversation.agent_id != viewer.agent_id:
            return ""
        log = _latest_assignment(conversation.pk)
        seq = f"{conversation.pk}-{log.pk if log else 0}"
        moved = (AssignmentLog.Trigger.TRANSFER, AssignmentLog.Trigger.HAND_BACK)
        if log is not None and log.trigger in moved:
            # A hand back reaches its new agent through rotation: it is news about a chat
            # someone else had, like a transfer, and says so.
            context = {
                "kind": SIGNAL_TRANSFER,
                "seq": f"transfer-{seq}",
                "handed_back": log.trigger == AssignmentLog.Trigger.HAND_BACK,
                **_transferred_by(log),
            }
        else:
            context = {"kind": SIGNAL_NEW_CHAT, "seq": f"new-chat-{seq}"}
    elif hint == SIGNAL_NEW_CHAT:
        context = {
            "kind": SIGNAL_NEW_CHAT,
            "seq": f"new-chat-{conversation.pk}-{message.pk if message else 0}",
            "message": message,
        }
    else:
        return ""
    return _render(viewer, "signal", {"conversation": conversation, **context})


def render_conversation(
    viewer: Viewer,
    *,
    conversation_id: int,
    message_id: int | None = None,
    signal: str = "",
    with_counts: bool = True,
) -> str:
    """The conversation's inbox row (moved to the top), the new message bubble if any, and a
    signal for the page's notifications when `signal` (a SIGNAL_* hint) applies to this viewer;
    or the removal fragments when the viewer may not see it.

    `with_counts=False` leaves out the tab counts (two COUNT queries and a render per socket)
    for a message appended to a chat, which moves no chat between tabs; the page still
    resynchronizes them on every (re)connect."""
    conversation = conversation_get_for_agent(
        agent_id=viewer.agent_id, division_id=viewer.division_id, conversation_id=conversation_id
    )
    if conversation is None:
        return _gone(viewer, conversation_id)
    if conversation.status == conversation.Status.RESOLVED:
        # Readable by its agent, but no longer in the inbox list.
        html = [_render(viewer, "removed", {"conversation_id": conversation_id})]
    else:
        html = [_render(viewer, "conversation", {"conversation": conversation})]
    if with_counts:
        html.append(_tab_counts(viewer))
    message = None
    if message_id is not None:
        message = message_get_for_agent(
            agent_id=viewer.agent_id, division_id=viewer.division_id, message_id=message_id
        )
        if message is not None:
            html.append(_render(viewer, "message", {"message": message}))
    if signal:
        html.append(_signal(viewer, conversation, signal, message))
    return "".join(html)


def render_message_status(viewer: Viewer, *, message_id: int) -> str:
    message = message_get_for_agent(
        agent_id=viewer.agent_id, division_id=viewer.division_id, message_id=message_id
    )
    if message is None:
        return ""
    return _render(viewer, "status", {"message": message})


def render_message_updated(viewer: Viewer, *, message_id: int) -> str:
    message = message_get_for_agent(
        agent_id=viewer.agent_id, division_id=viewer.division_id, message_id=message_id
    )
    if message is None:
        return ""
    return _render(viewer, "updated", {"message": message})


def render_device_banner(viewer: Viewer, *, device_id: int) -> str:
    """The device's banner and the open thread's connection note, for a viewer the device
    concerns (they log in with it, it routes to their division, or they hold a chat on it)."""
    device = (
        devices_concerning_agent(
            agent_id=viewer.agent_id, division_id=viewer.division_id, device_id=viewer.device_id
        )
        .filter(pk=device_id)
        .first()
    )
    if device is None:
        return ""
    return _render(viewer, "device", {"device": device})


def render_device_status_for_staff(*, language: str, device_id: int) -> str:
    device = Device.objects.filter(pk=device_id).first()
    if device is None:
        return ""
    with translation.override(language), timezone.override(settings.TIME_ZONE):
        return render_to_string("devices_app/partials/device_status.html", {"device": device})


def render_collision(viewer: Viewer, *, conversation_id: int) -> str:
    """Who else has the conversation open, for the collision line of its thread. Reads Redis
    only: the viewer's right to see the conversation was checked when their page reported
    showing it (chats.consumers_collision)."""
    colleagues = collision_colleagues(
        conversation_id=conversation_id, exclude_agent_id=viewer.agent_id
    )
    return _render(
        viewer, "collision", {"conversation_id": conversation_id, "colleagues": colleagues}
    )
