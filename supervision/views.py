"""The supervisor area: the board, agent actions, conversation oversight (reports in
supervision/views_reports.py). Each view parses, calls one selector or service, answers."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agents.presence import PresenceUnavailable
from agents.selectors import agent_get_for_user

from . import selectors, services
from .decorators import supervisor_required
from .forms import SupervisorTimeZoneForm, TransferForm
from .live import board_context
from .scope import divisions_for_scope


def _board_answer(request):
    """After an action: the board fragment for htmx, else back to the board page."""
    if request.htmx:
        return render(
            request, "supervision/partials/board.html", board_context(scope=request.scope)
        )
    return redirect("supervision:board")


@require_GET
@supervisor_required
def board(request):
    context = board_context(scope=request.scope)
    context["nav"] = "board"
    return render(request, "supervision/board.html", context)


def _agent_or_404(request, agent_id: int):
    agent = selectors.agent_get_for_scope(scope=request.scope, agent_id=agent_id)
    if agent is None:
        raise Http404
    return agent


@require_POST
@supervisor_required
def agent_hand_back_all(request, agent_id: int):
    agent = _agent_or_404(request, agent_id)
    moved = services.agent_chats_hand_back_all(
        scope=request.scope, by_user=request.user, agent=agent
    )
    messages.success(
        request,
        _("%(count)s chats of %(name)s went back to rotation.")
        % {"count": moved, "name": agent.name},
    )
    return _board_answer(request)


@require_POST
@supervisor_required
def agent_away(request, agent_id: int):
    agent = _agent_or_404(request, agent_id)
    away = request.POST.get("away", "1") == "1"
    try:
        services.agent_away_set(scope=request.scope, agent=agent, away=away)
    except PresenceUnavailable:
        return render(
            request,
            "supervision/partials/board.html",
            board_context(scope=request.scope),
            status=503,
        )
    return _board_answer(request)


@require_POST
@supervisor_required
def agent_end_sessions(request, agent_id: int):
    agent = _agent_or_404(request, agent_id)
    services.agent_sessions_end(scope=request.scope, agent=agent)
    return _board_answer(request)


def _conversation_or_404(request, conversation_id: int):
    conversation = selectors.conversation_get_for_scope(
        scope=request.scope, conversation_id=conversation_id
    )
    if conversation is None:
        raise Http404
    return conversation


@require_GET
@supervisor_required
def conversations(request):
    status = request.GET.get("status", "")
    return render(
        request,
        "supervision/conversations.html",
        {
            "conversations": selectors.conversations_for_scope(scope=request.scope, status=status),
            "status": status,
            "nav": "conversations",
        },
    )


def _conversation_page(request, conversation, form, status=200):
    return render(
        request,
        "supervision/conversation.html",
        {
            "conversation": conversation,
            "history": selectors.conversation_history(conversation=conversation),
            "rotation_log": selectors.conversation_rotation_log(conversation=conversation),
            "episodes": selectors.earlier_episodes(scope=request.scope, conversation=conversation),
            "form": form,
            "own_agent": agent_get_for_user(user=request.user),
            "nav": "conversations",
        },
        status=status,
    )


def _transfer_form(request, data=None):
    return TransferForm(
        data,
        agents=selectors.agents_for_scope(scope=request.scope),
        divisions=divisions_for_scope(scope=request.scope),
    )


@require_GET
@supervisor_required
def conversation(request, conversation_id: int):
    conversation = _conversation_or_404(request, conversation_id)
    return _conversation_page(request, conversation, _transfer_form(request))


@require_POST
@supervisor_required
def conversation_transfer(request, conversation_id: int):
    conversation = _conversation_or_404(request, conversation_id)
    form = _transfer_form(request, request.POST)
    if form.is_valid():
        try:
            services.conversation_transfer_by_supervisor(
                scope=request.scope,
                by_user=request.user,
                conversation=conversation,
                to_agent=form.cleaned_data["to_agent"],
                to_division=form.cleaned_data["to_division"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The conversation was transferred."))
            return redirect("supervision:conversation", conversation_id=conversation.pk)
    return _conversation_page(request, conversation, form, status=400)


@require_POST
@supervisor_required
def conversation_take_over(request, conversation_id: int):
    """A supervisor who is also an agent takes the chat over into their own inbox."""
    conversation = _conversation_or_404(request, conversation_id)
    own_agent = agent_get_for_user(user=request.user)
    form = _transfer_form(request)
    if own_agent is None:
        form.add_error(None, _("You have no agent account to take chats with."))
        return _conversation_page(request, conversation, form, status=400)
    try:
        services.conversation_transfer_by_supervisor(
            scope=request.scope, by_user=request.user, conversation=conversation, to_agent=own_agent
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _conversation_page(request, conversation, form, status=400)
    return redirect("chats:conversation", conversation_id=conversation.pk)


@require_POST
@supervisor_required
def time_zone(request):
    form = SupervisorTimeZoneForm(request.POST)
    if form.is_valid():
        services.supervisor_time_zone_set(
            user=request.user, time_zone=form.cleaned_data["time_zone"]
        )
    else:
        messages.error(request, form.errors["time_zone"][0])
    nxt = request.POST.get("next", "")
    return redirect(nxt if nxt.startswith("/supervision") else "supervision:board")
