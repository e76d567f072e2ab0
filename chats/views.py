"""The agent workspace: inbox list and conversation thread (interfaces: parse, call one service
or selector, render).

Every region the socket updates is also served here on its own, so the page can resynchronize
from the database after each (re)connect: a push is a hint, never the record. Posts answer htmx
with fragments (the same partials the socket renders, same element ids) and plain form posts
with a redirect, so the workspace also works without JavaScript.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST, require_safe

from agents.decorators import agent_required

from .media import attachment_response
from .selectors import (
    TAB_LABELS,
    TABS,
    assignment_history_for_conversation,
    conversation_get_for_agent,
    conversation_page_for_agent,
    conversation_tab_counts_for_agent,
    devices_concerning_agent,
    label_list,
    message_get_for_agent,
    message_get_in_thread,
    message_get_readable_by_agent,
    message_page_for_conversation,
)
from .services.conversations import conversation_reopen, conversation_resolve, conversation_take
from .services.outbound import MAX_TEXT_LENGTH, message_retry
from .services.reading import conversation_mark_read


def _conversation_or_404(request, conversation_id: int):
    conversation = conversation_get_for_agent(
        agent_id=request.agent.pk,
        division_id=request.agent.division_id,
        conversation_id=conversation_id,
    )
    if conversation is None:
        # Not "forbidden": an agent must not learn which conversation ids exist.
        raise Http404
    return conversation


def _list_params(request) -> tuple[str, str]:
    tab = request.GET.get("tab", "mine")
    return (tab if tab in TABS else "mine"), request.GET.get("q", "").strip()[:100]


def id_param(value: str) -> int | None:
    """A row id posted or put in a URL by a page, or None for anything else. Not `isdigit()`:
    it accepts "²", which `int()` refuses, and a bad id must be a clear error, never a 500."""
    value = value.strip()
    return int(value) if value.isascii() and value.isdecimal() and len(value) <= 9 else None


def _label_param(request) -> int | None:
    """The inbox's label filter (`?label=<id>`); anything else means no filter."""
    return id_param(request.GET.get("label", ""))


def _inbox_context(
    request, *, tab: str = "mine", query: str = "", label: int | None = None
) -> dict:
    page = conversation_page_for_agent(agent=request.agent, tab=tab, query=query, label=label)
    counts = conversation_tab_counts_for_agent(
        agent_id=request.agent.pk, division_id=request.agent.division_id
    )
    return {
        "agent": request.agent,
        "tab": tab,
        "query": query,
        "label": label,
        "label_choices": list(label_list()),
        "tabs": [(key, TAB_LABELS[key], counts.get(key)) for key in TABS],
        "conversations": page.conversations,
        "next_cursor": page.next_cursor,
        "banner_devices": _banner_devices(request),
    }


def _banner_devices(request) -> list:
    agent = request.agent
    return list(
        devices_concerning_agent(
            agent_id=agent.pk, division_id=agent.division_id, device_id=agent.device_id
        )
    )


@require_GET
@agent_required
def device_banners(request):
    """The connection banners alone, for the page's resync after a (re)connect."""
    return render(
        request,
        "chats/partials/device_banners.html",
        {"banner_devices": _banner_devices(request)},
    )


def _thread_context(request, conversation, **extra) -> dict:
    page = message_page_for_conversation(conversation=conversation)
    current = [m for m in page.messages if m.conversation_id == conversation.pk]
    earlier = [m for m in page.messages if m.conversation_id != conversation.pk]
    mine = conversation.agent_id == request.agent.pk
    return {
        "conversation": conversation,
        "messages": current,
        "earlier_messages": earlier,
        "has_older": page.has_older,
        "page_first": page.messages[0] if page.messages else None,
        "history": assignment_history_for_conversation(conversation=conversation),
        "mine": mine,
        "can_mark_read": mine,
        "max_length": MAX_TEXT_LENGTH,
        **extra,
    }


def _thread_response(request, conversation, *, status: int = 200, **extra) -> HttpResponse:
    """The thread pane for htmx; the whole page otherwise."""
    context = _thread_context(request, conversation, **extra)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "chats/partials/thread.html", context, status=status)
    context.update(_inbox_context(request))
    return render(request, "chats/inbox.html", context, status=status)


@require_GET
@agent_required
def inbox(request):
    tab, query = _list_params(request)
    label = _label_param(request)
    if request.htmx and request.htmx.target == "conversation-list":
        # Search as the agent types: only the list changes, the search box keeps its focus.
        page = conversation_page_for_agent(agent=request.agent, tab=tab, query=query, label=label)
        return render(
            request,
            "chats/partials/conversation_list.html",
            {
                "tab": tab,
                "query": query,
                "label": label,
                "conversations": page.conversations,
                "next_cursor": page.next_cursor,
            },
        )
    context = _inbox_context(request, tab=tab, query=query, label=label)
    if request.htmx and request.htmx.target == "inbox-pane":
        return render(request, "chats/inbox.html#inbox_pane", context)
    context["conversation"] = None
    return render(request, "chats/inbox.html", context)


@require_GET
@agent_required
def conversation_list(request):
    """The list itself (resync), or with `cursor` the next page of rows (infinite scroll)."""
    tab, query = _list_params(request)
    label = _label_param(request)
    cursor = request.GET.get("cursor", "")
    page = conversation_page_for_agent(
        agent=request.agent, tab=tab, query=query, cursor=cursor, label=label
    )
    context = {
        "tab": tab,
        "query": query,
        "label": label,
        "conversations": page.conversations,
        "next_cursor": page.next_cursor,
    }
    template = "conversation_page" if cursor else "conversation_list"
    return render(request, f"chats/partials/{template}.html", context)


@require_GET
@agent_required
def conversation(request, conversation_id: int):
    return _thread_response(request, _conversation_or_404(request, conversation_id))


@require_GET
@agent_required
def conversation_older(request, conversation_id: int):
    """The page of history before message `before` (same contact, this episode or earlier)."""
    conversation = _conversation_or_404(request, conversation_id)
    try:
        before_id = int(request.GET.get("before", ""))
    except ValueError:
        raise Http404 from None
    before = message_get_in_thread(conversation=conversation, message_id=before_id)
    if before is None:
        raise Http404
    page = message_page_for_conversation(conversation=conversation, before=before)
    return render(
        request,
        "chats/partials/thread_older_page.html",
        {
            "conversation": conversation,
            "messages": page.messages,
            "has_older": page.has_older,
            "page_first": page.messages[0] if page.messages else None,
        },
    )


@require_POST
@agent_required
def conversation_read(request, conversation_id: int):
    conversation = _conversation_or_404(request, conversation_id)
    conversation_mark_read(conversation=conversation, agent=request.agent)
    return HttpResponse(status=204)


def _first_error(error: ValidationError) -> str:
    return error.messages[0] if error.messages else str(error)


@require_POST
@agent_required
def message_retry_view(request, message_id: int):
    """A person's Retry on a failed or unconfirmed reply; answers with the message's ticks."""
    message = message_get_for_agent(
        agent_id=request.agent.pk, division_id=request.agent.division_id, message_id=message_id
    )
    if message is None:
        raise Http404
    status = 200
    context = {"message": message}
    try:
        message = message_retry(message=message, agent=request.agent)
        context["message"] = message
    except ValidationError as error:
        status = 422
        context["retry_error"] = _first_error(error)
    if not request.htmx:
        return redirect(reverse("chats:conversation", args=[message.conversation_id]))
    return render(request, "chats/partials/message_status.html", context, status=status)


def _conversation_action(request, conversation_id: int, service):
    conversation = _conversation_or_404(request, conversation_id)
    try:
        conversation = service(conversation=conversation, agent=request.agent)
    except ValidationError as error:
        # Show the pane as it is now, with why nothing happened.
        fresh = conversation_get_for_agent(
            agent_id=request.agent.pk,
            division_id=request.agent.division_id,
            conversation_id=conversation_id,
        )
        if fresh is None:
            raise Http404 from None
        return _thread_response(request, fresh, status=409, action_error=_first_error(error))
    if not request.htmx:
        return redirect(reverse("chats:conversation", args=[conversation.pk]))
    conversation = _conversation_or_404(request, conversation_id)
    response = _thread_response(request, conversation)
    # The list follows at once, also when the socket is down.
    response["HX-Trigger"] = "sapa:list-changed"
    return response


@require_POST
@agent_required
def conversation_take_view(request, conversation_id: int):
    return _conversation_action(request, conversation_id, conversation_take)


@require_POST
@agent_required
def conversation_resolve_view(request, conversation_id: int):
    return _conversation_action(request, conversation_id, conversation_resolve)


@require_POST
@agent_required
def conversation_reopen_view(request, conversation_id: int):
    return _conversation_action(request, conversation_id, conversation_reopen)


@require_safe
@agent_required
def message_attachment(request, message_id: int):
    """A stored attachment, only for an agent who may read its message: in a conversation they
    may see, or in an earlier one with the same contact shown above it (404 otherwise)."""
    message = message_get_readable_by_agent(
        agent_id=request.agent.pk, division_id=request.agent.division_id, message_id=message_id
    )
    if message is None:
        raise Http404
    return attachment_response(message=message)
