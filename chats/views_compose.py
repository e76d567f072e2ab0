"""The reply box's tools (issue 6): quick replies, attachments, polls, locations, quote-reply
and internal notes. Interfaces like `chats.views`: parse, call one service, answer.

Answers follow the reply view: htmx gets the new bubble(s) out of band (same element ids as the
socket push, so the push lands on them) and `sapa:sent`; a refused send answers 422 with the
reason (under the box, or beside each field of a tool panel) and stores nothing. Plain posts
get a redirect, or the page with the reason.

Nothing the browser says about a quick reply's attachment or location is trusted: the form
carries only the template's id, and the template is looked up for this agent and rendered for
this conversation again here.
"""

from __future__ import annotations

import dataclasses

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.decorators import agent_required
from templates_app.forms import PollForm
from templates_app.models import MAX_POLL_CHOICES, MIN_POLL_CHOICES
from templates_app.selectors import (
    poll_get_for_agent,
    poll_list_for_agent,
    quick_reply_get_for_agent,
    quick_reply_list_for_agent,
)
from templates_app.services import poll_spec_from_saved, quick_reply_render

from .models import Conversation, Message
from .selectors import message_get_in_thread
from .services.notes import note_create
from .services.outbound import (
    message_location_create,
    message_poll_create,
    message_quick_reply_create,
    message_reply_create,
)
from .views import _conversation_or_404, _first_error, _thread_response, id_param

# Suggestions shown at once in the "/" picker; typing narrows them.
PICKER_SIZE = 8
# Choice fields a new poll starts with; "Add a choice" adds more, up to MAX_POLL_CHOICES.
POLL_START_CHOICES = 3


def _quoted(request, conversation: Conversation) -> Message | None:
    """The message the agent is answering (`quoted=<id>`), from this contact's thread."""
    raw = request.POST.get("quoted", "").strip()
    if not raw:
        return None
    quoted = None
    if (message_id := id_param(raw)) is not None:
        quoted = message_get_in_thread(conversation=conversation, message_id=message_id)
    if quoted is None:
        raise ValidationError(_("The quoted message is not part of this chat."), code="bad_quote")
    return quoted


def _sent(request, conversation: Conversation, messages: list[Message], **panel) -> HttpResponse:
    """The bubbles at once (out of band), plus a fresh tool panel when a panel sent them."""
    if not request.htmx:
        return redirect(reverse("chats:conversation", args=[conversation.pk]))
    context = {"conversation": conversation, "messages": messages, **panel}
    response = render(request, "chats/partials/composer_sent.html", context)
    response["HX-Trigger"] = "sapa:sent"
    return response


def _refused(request, conversation: Conversation, error: ValidationError, *, draft: str = ""):
    """Why nothing was sent, under the reply box; the box keeps the text."""
    if not request.htmx:
        return _thread_response(
            request, conversation, status=422, reply_error=_first_error(error), draft=draft
        )
    return render(
        request,
        "chats/partials/reply_error.html",
        {"conversation": conversation, "reply_error": _first_error(error)},
        status=422,
    )


# --- The reply box: text, attachment, quick reply, or note -----------------------------------


@require_GET
@agent_required
def quick_reply_picker(request, conversation_id: int):
    """The "/" picker's options: templates matching `q`, filled in for this conversation."""
    conversation = _conversation_or_404(request, conversation_id)
    query = request.GET.get("q", "")[:40]
    templates = quick_reply_list_for_agent(agent=request.agent, query=query)[:PICKER_SIZE]
    options = [
        (
            template,
            quick_reply_render(
                quick_reply=template, conversation=conversation, agent=request.agent
            ),
        )
        for template in templates
    ]
    return render(
        request,
        "chats/partials/composer_quick_replies.html",
        {"conversation": conversation, "options": options, "query": query.lstrip("/")},
    )


def _compose(request, conversation: Conversation, text: str) -> list[Message]:
    """Send what the reply box holds, through the one service that fits it."""
    agent = request.agent
    upload = request.FILES.get("attachment")
    link = request.POST.get("attachment_url", "").strip()
    quick_reply_id = request.POST.get("quick_reply", "").strip()

    if request.POST.get("mode") == "note":
        if upload or link or quick_reply_id:
            raise ValidationError(
                _("A note is text only: remove the attachment or quick reply first."),
                code="note_attachment",
            )
        return [note_create(conversation=conversation, agent=agent, text=text)]

    quoted = _quoted(request, conversation)
    if quick_reply_id:
        if upload or link:
            raise ValidationError(
                _("Send the quick reply's attachment or your own, not both."), code="two_sources"
            )
        template = None
        if (template_id := id_param(quick_reply_id)) is not None:
            template = quick_reply_get_for_agent(agent=agent, quick_reply_id=template_id)
        if template is None:
            raise ValidationError(
                _("This quick reply is no longer available."), code="quick_reply_gone"
            )
        rendered = quick_reply_render(quick_reply=template, conversation=conversation, agent=agent)
        # The agent may have edited the filled-in text; the attachment and location are the
        # template's own.
        return message_quick_reply_create(
            conversation=conversation,
            agent=agent,
            quick_reply=dataclasses.replace(rendered, text=text),
            quoted=quoted,
        )
    if upload and link:
        raise ValidationError(_("Attach either a file or a link, not both."), code="one_source")
    return [
        message_reply_create(
            conversation=conversation,
            agent=agent,
            text=text,
            quoted=quoted,
            attachment=upload or link or None,
        )
    ]


@require_POST
@agent_required
def conversation_send(request, conversation_id: int):
    """The reply box's Send: a reply (with an attachment, a quick reply's attachment and
    location, a quote) or, in Note mode, an internal note that never reaches the customer."""
    conversation = _conversation_or_404(request, conversation_id)
    # The box posts multipart (it may carry a file), where browsers send line breaks as CRLF.
    text = request.POST.get("text", "").replace("\r\n", "\n")
    try:
        messages = _compose(request, conversation, text)
    except ValidationError as error:
        return _refused(request, conversation, error, draft=text)
    return _sent(request, conversation, messages)


# --- Tool panels: poll and location ---------------------------------------------------------


def _poll_panel(request, conversation, *, form=None, saved_poll="", error="", status=200):
    choices = form.data.getlist("choices") if form is not None and form.is_bound else []
    choices += [""] * max(0, max(MIN_POLL_CHOICES, POLL_START_CHOICES) - len(choices))
    context = {
        "conversation": conversation,
        "form": form or PollForm(),
        "saved_polls": poll_list_for_agent(agent=request.agent),
        "saved_poll": saved_poll,
        "choices": choices[:MAX_POLL_CHOICES],
        "max_choices": MAX_POLL_CHOICES,
        "poll_error": error,
        "open": True,
    }
    return render(request, "chats/partials/composer_poll.html", context, status=status)


@require_http_methods(["GET", "POST"])
@agent_required
def conversation_poll(request, conversation_id: int):
    """GET: the poll panel (saved polls of the agent's division, or a new one). POST: send it;
    a refused poll comes back with each reason beside its field."""
    conversation = _conversation_or_404(request, conversation_id)
    if request.method == "GET":
        return _poll_panel(request, conversation)
    saved_id = request.POST.get("saved_poll", "").strip()
    form = None if saved_id else PollForm(request.POST)
    try:
        quoted = _quoted(request, conversation)
        if saved_id:
            saved = None
            if (poll_id := id_param(saved_id)) is not None:
                saved = poll_get_for_agent(agent=request.agent, poll_id=poll_id)
            if saved is None:
                raise ValidationError(_("This saved poll is no longer available."), code="gone")
            spec = poll_spec_from_saved(poll=saved)
        elif form.is_valid():
            spec = form.spec
        else:
            raise ValidationError(_("Check the poll."), code="invalid")
        message = message_poll_create(
            conversation=conversation, agent=request.agent, poll=spec, quoted=quoted
        )
    except ValidationError as error:
        reason = _first_error(error)
        if form is not None and form.errors:
            reason = ""  # shown beside the fields
        if not request.htmx:
            reason = reason or _("The poll could not be sent: check its question and choices.")
            return _thread_response(request, conversation, status=422, reply_error=reason)
        return _poll_panel(
            request, conversation, form=form, saved_poll=saved_id, error=reason, status=422
        )
    return _sent(
        request,
        conversation,
        [message],
        panel="chats/partials/composer_poll.html",
        open=False,
    )


@require_POST
@agent_required
def conversation_location(request, conversation_id: int):
    """Send the coordinates of the location panel; each refused one is explained beside it."""
    conversation = _conversation_or_404(request, conversation_id)
    latitude = request.POST.get("latitude", "")
    longitude = request.POST.get("longitude", "")
    try:
        message = message_location_create(
            conversation=conversation,
            agent=request.agent,
            latitude=latitude,
            longitude=longitude,
            quoted=_quoted(request, conversation),
        )
    except ValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {}
        if not request.htmx:
            return _thread_response(
                request, conversation, status=422, reply_error=_first_error(error)
            )
        context = {
            "conversation": conversation,
            "latitude": latitude,
            "longitude": longitude,
            "errors": errors,
            "location_error": "" if errors else _first_error(error),
            "open": True,
        }
        return render(request, "chats/partials/composer_location.html", context, status=422)
    return _sent(
        request,
        conversation,
        [message],
        panel="chats/partials/composer_location.html",
        open=False,
    )
