"""The agent workspace: inbox list and conversation thread (interfaces: parse, select, render).

Every region the socket updates is also served here on its own, so the page can resynchronize
from the database after each (re)connect: a push is a hint, never the record.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST, require_safe

from agents.decorators import agent_required

from .media import attachment_response
from .selectors import (
    conversation_get_for_agent,
    conversation_list_for_agent,
    message_get_for_agent,
    message_list_earlier_for_conversation,
    message_list_for_conversation,
)
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


def _thread_context(request, conversation) -> dict:
    return {
        "conversation": conversation,
        "messages": message_list_for_conversation(conversation=conversation),
        "earlier_messages": message_list_earlier_for_conversation(conversation=conversation),
        "can_mark_read": conversation.agent_id == request.agent.pk,
    }


@require_GET
@agent_required
def inbox(request):
    return render(
        request,
        "chats/inbox.html",
        {
            "agent": request.agent,
            "conversations": conversation_list_for_agent(agent=request.agent),
            "conversation": None,
        },
    )


@require_GET
@agent_required
def conversation_list(request):
    return render(
        request,
        "chats/partials/conversation_list.html",
        {"conversations": conversation_list_for_agent(agent=request.agent)},
    )


@require_GET
@agent_required
def conversation(request, conversation_id: int):
    conversation = _conversation_or_404(request, conversation_id)
    context = _thread_context(request, conversation)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "chats/partials/thread.html", context)
    context.update(
        agent=request.agent, conversations=conversation_list_for_agent(agent=request.agent)
    )
    return render(request, "chats/inbox.html", context)


@require_POST
@agent_required
def conversation_read(request, conversation_id: int):
    conversation = _conversation_or_404(request, conversation_id)
    conversation_mark_read(conversation=conversation, agent=request.agent)
    return HttpResponse(status=204)


@require_safe
@agent_required
def message_attachment(request, message_id: int):
    """A stored attachment, only for an agent who may see its conversation (404 otherwise)."""
    message = message_get_for_agent(
        agent_id=request.agent.pk, division_id=request.agent.division_id, message_id=message_id
    )
    if message is None:
        raise Http404
    return attachment_response(message=message)
