"""Conversation actions in the workspace: transfer, hand back, labels, and starting a new chat
(interfaces: parse, call one service, render).

The transfer and new-chat forms open in a <dialog> (#dialog-slot): with htmx the form arrives as
a fragment and static/js/actions.js opens it; without JavaScript the same URL renders the whole
workspace with the dialog shown open. A refused post answers 422 with the form and its reason,
retargeted at the form so the dialog stays open; a success answers with the thread pane, empties
the dialog slot and tells the list to refresh (`sapa:list-changed`).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import push_url, reswap, retarget, trigger_client_event

from agents.decorators import agent_required
from agents.models import Agent
from divisions.models import Division

from .selectors import conversation_get_for_agent, transfer_targets_for_agent
from .services.labels import conversation_labels_set
from .services.outbound import MAX_TEXT_LENGTH
from .services.starting import conversation_start
from .services.transfer import conversation_hand_back, conversation_transfer
from .views import (
    _conversation_or_404,
    _first_error,
    _inbox_context,
    _thread_context,
    _thread_response,
    id_param,
)

TRANSFER_DIALOG = "chats/partials/transfer_dialog.html"
NEW_CHAT_DIALOG = "chats/partials/new_chat_dialog.html"
# Service error codes that are about the number (the rest are about the message).
NUMBER_ERRORS = {"invalid_number", "own_number", "in_use"}


def _answered(response: HttpResponse, notice: str = "") -> HttpResponse:
    """The list follows at once (also when the socket is down); `notice` says what happened."""
    trigger_client_event(response, "sapa:list-changed")
    if notice:
        trigger_client_event(response, "sapa:notice", {"text": notice})
    return response


def _dialog_page(request, dialog: str, context: dict, *, status: int = 200) -> HttpResponse:
    """Without htmx: the workspace with the dialog shown open (over the thread, if one)."""
    conversation = context.get("conversation")
    page = _thread_context(request, conversation) if conversation else {"conversation": None}
    page.update(_inbox_context(request))
    page.update(context, dialog=dialog)
    return render(request, "chats/inbox.html", page, status=status)


def _form_refused(request, template: str, context: dict, error: str, target: str):
    """A refused post: the form again with its reason, in place, nothing changed (422)."""
    context = {**context, "form_error": error}
    if not request.htmx:
        return _dialog_page(request, template, context, status=422)
    response = render(request, f"{template}#form", context, status=422)
    retarget(response, target)
    return reswap(response, "outerHTML")


def _moved_away(request, conversation_id: int, notice: str) -> HttpResponse:
    """After a move: the thread as the agent may still see it (a chat handed back to an empty
    rotation waits in their own queue), or the pane saying where it went."""
    if not request.htmx:
        return redirect(reverse("chats:inbox"))
    conversation = conversation_get_for_agent(
        agent_id=request.agent.pk,
        division_id=request.agent.division_id,
        conversation_id=conversation_id,
    )
    if conversation is not None:
        response = _thread_response(request, conversation, action_notice=notice)
    else:
        response = HttpResponse(
            render_to_string(
                "chats/partials/actions_answer.html",
                {"conversation": None, "gone": True, "moved_notice": notice},
                request=request,
            )
        )
        push_url(response, reverse("chats:inbox"))
    return _answered(response, notice)


# --- Transfer and hand back ------------------------------------------------------------------


def _target_parse(value: str) -> tuple[str, int | None]:
    """`agent:<id>` or `division:<id>` from the form's radio buttons."""
    kind, _sep, raw = value.partition(":")
    target_id = id_param(raw)
    if kind not in ("agent", "division") or target_id is None:
        return "", None
    return kind, target_id


def _transfer_context(request, conversation, *, target: str = "", note: str = "") -> dict:
    kind, target_id = _target_parse(target)
    return {
        "conversation": conversation,
        "targets": transfer_targets_for_agent(agent=request.agent),
        "agent": request.agent,
        "target_kind": kind,
        "target_id": target_id,
        "note": note,
    }


def _transfer_target(value: str) -> tuple[Agent | None, Division | None]:
    """The agent or division the form names; (None, None) when it names nobody (any more)."""
    kind, target_id = _target_parse(value)
    if kind == "agent":
        return Agent.objects.filter(pk=target_id).first(), None
    if kind == "division":
        return None, Division.objects.filter(pk=target_id).first()
    return None, None


@require_http_methods(["GET", "POST"])
@agent_required
def conversation_transfer_view(request, conversation_id: int):
    """GET: the transfer dialog. POST: hand the chat to a colleague or a division's rotation,
    with an optional note (stored as an internal note by the service)."""
    conversation = _conversation_or_404(request, conversation_id)
    if request.method == "GET":
        context = _transfer_context(request, conversation)
        if not request.htmx:
            return _dialog_page(request, TRANSFER_DIALOG, context)
        return render(request, TRANSFER_DIALOG, context)

    target, note = request.POST.get("target", ""), request.POST.get("note", "")
    to_agent, to_division = _transfer_target(target)
    context = _transfer_context(request, conversation, target=target, note=note)
    if to_agent is None and to_division is None:
        error = _("Choose a colleague or a division to transfer to.")
        return _form_refused(request, TRANSFER_DIALOG, context, error, "#transfer-form")
    try:
        new_agent = conversation_transfer(
            conversation=conversation,
            by_agent=request.agent,
            to_agent=to_agent,
            to_division=to_division,
            note=note,
        )
    except ValidationError as error:
        return _form_refused(
            request, TRANSFER_DIALOG, context, _first_error(error), "#transfer-form"
        )
    if to_agent is not None:
        notice = _("Transferred to %(name)s.") % {"name": to_agent.name}
    elif new_agent is not None:
        notice = _("Transferred to %(division)s: %(name)s has it now.") % {
            "division": to_division.name,
            "name": new_agent.name,
        }
    else:
        notice = _("Transferred to %(division)s: it waits in the queue there.") % {
            "division": to_division.name
        }
    return _moved_away(request, conversation.pk, notice)


@require_POST
@agent_required
def conversation_hand_back_view(request, conversation_id: int):
    """Give the chat back to the division's rotation (never to this agent again this time)."""
    conversation = _conversation_or_404(request, conversation_id)
    try:
        new_agent = conversation_hand_back(conversation=conversation, by_agent=request.agent)
    except ValidationError as error:
        # Show the pane as it is now (a colleague may have moved the chat meanwhile).
        conversation = _conversation_or_404(request, conversation_id)
        return _thread_response(request, conversation, status=409, action_error=_first_error(error))
    if new_agent is not None:
        notice = _("Handed back: %(name)s has it now.") % {"name": new_agent.name}
    else:
        notice = _("Handed back: it waits in your division's queue.")
    return _moved_away(request, conversation.pk, notice)


# --- Labels ----------------------------------------------------------------------------------


@require_POST
@agent_required
def conversation_labels_view(request, conversation_id: int):
    """Replace the chat's labels with the ticked ones; answers with the side panel's labels."""
    conversation = _conversation_or_404(request, conversation_id)
    raw = request.POST.getlist("labels")
    context = {"conversation": conversation, "mine": conversation.agent_id == request.agent.pk}
    status = 200
    if any(id_param(value) is None for value in raw):
        context["labels_error"] = _("That label no longer exists.")
        status = 422
    else:
        try:
            conversation_labels_set(
                conversation=conversation, agent=request.agent, labels=[id_param(v) for v in raw]
            )
        except ValidationError as error:
            context["labels_error"] = _first_error(error)
            status = 422
    if not request.htmx:
        if status != 200:
            return _thread_response(
                request, conversation, status=status, action_error=context["labels_error"]
            )
        return redirect(reverse("chats:conversation", args=[conversation.pk]))
    response = render(request, "chats/partials/labels_side.html", context, status=status)
    return _answered(response) if status == 200 else response


# --- New chat --------------------------------------------------------------------------------


def _new_chat_context(request, **extra) -> dict:
    return {
        "agent": request.agent,
        "number": "",
        "name": "",
        "text": "",
        "max_length": MAX_TEXT_LENGTH,
        **extra,
    }


@require_http_methods(["GET", "POST"])
@agent_required
def new_chat(request):
    """GET: the "New chat" dialog. POST: open (or find) the chat with a number on the agent's
    device, assigned to them, sending the first message if one was written; answers with the
    thread."""
    if request.method == "GET":
        context = _new_chat_context(request)
        if not request.htmx:
            return _dialog_page(request, NEW_CHAT_DIALOG, context)
        return render(request, NEW_CHAT_DIALOG, context)

    number, text = request.POST.get("number", ""), request.POST.get("text", "")
    name = request.POST.get("name", "")
    try:
        conversation = conversation_start(agent=request.agent, number=number, text=text, name=name)
    except ValidationError as error:
        context = _new_chat_context(
            request,
            number=number,
            name=name,
            text=text,
            error_on_number=getattr(error, "code", "") in NUMBER_ERRORS,
            error_on_name=getattr(error, "code", "") == "invalid_name",
        )
        return _form_refused(
            request, NEW_CHAT_DIALOG, context, _first_error(error), "#new-chat-form"
        )
    url = reverse("chats:conversation", args=[conversation.pk])
    if not request.htmx:
        return redirect(url)
    conversation = _conversation_or_404(request, conversation.pk)
    response = render(
        request,
        "chats/partials/actions_answer.html",
        _thread_context(request, conversation),
    )
    push_url(response, url)
    return _answered(response)
