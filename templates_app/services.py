"""Quick-reply rendering and poll specifications (no database writes).

Both produce what the outbound flow needs to send: a rendered quick reply (text, attachment,
location) and a normalized poll (question, choices, single/multiple).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import MAX_POLL_CHOICES, MIN_POLL_CHOICES, Poll, QuickReply

if TYPE_CHECKING:
    from agents.models import Agent
    from chats.models import Conversation

POLL_QUESTION_MAX_LENGTH = Poll._meta.get_field("name").max_length


# --- Quick replies ----------------------------------------------------------------------------

# Only these three are ours; anything else in braces ("{var1}", "{ok", "}{") is left as typed.
_VARIABLE = re.compile(r"\{(name|agent|device)\}", re.IGNORECASE)


@dataclass(frozen=True)
class RenderedQuickReply:
    """A quick reply filled in for one conversation and agent.

    `attachment_url` is absolute: the template's own link, or a signed, expiring link to the
    template's file (what the gateway fetches as Fonnte's `url`). `attachment_stored_name` is the
    storage name of the template's file ("" for a link): a reply may reference it in
    `Message.attachment_file` (retention never deletes template files).
    `attachment_name` is the name to show the recipient (Fonnte's `filename`).
    """

    text: str
    attachment_url: str = ""
    attachment_name: str = ""
    attachment_stored_name: str = ""
    location_lat: Decimal | None = None
    location_lng: Decimal | None = None

    @property
    def has_attachment(self) -> bool:
        return bool(self.attachment_url)

    @property
    def has_location(self) -> bool:
        return self.location_lat is not None and self.location_lng is not None


def quick_reply_text_render(*, text: str, values: dict[str, str]) -> str:
    """Replace {name}, {agent} and {device} (any letter case); leave every other brace alone."""
    return _VARIABLE.sub(lambda match: values[match.group(1).lower()], text)


def quick_reply_render(
    *, quick_reply: QuickReply, conversation: Conversation, agent: Agent
) -> RenderedQuickReply:
    """Fill a template for `conversation`, as written by `agent`. Never raises on braces.

    {name} is the contact's name, else their number (or the group's id); {agent} the agent's
    name; {device} the display name of the device the conversation came in on. Checks nothing
    about permissions: list templates with `quick_reply_list_for_agent`.
    """
    contact = conversation.contact
    values = {
        "name": contact.name.strip() or contact.display_address,
        "agent": agent.name,
        "device": conversation.device.name,
    }
    attachment_url = attachment_name = stored_name = ""
    if quick_reply.attachment_file:
        # Imported here: chats depends on templates_app, not the other way round, except for
        # this one helper that signs links for the gateway.
        from chats.media import outgoing_file_signed_url

        stored_name = quick_reply.attachment_file.name
        attachment_url = outgoing_file_signed_url(stored_name=stored_name)
        attachment_name = posixpath.basename(stored_name)
    elif quick_reply.attachment_url:
        attachment_url = quick_reply.attachment_url
        attachment_name = unquote(posixpath.basename(urlsplit(attachment_url).path))
    return RenderedQuickReply(
        text=quick_reply_text_render(text=quick_reply.text, values=values),
        attachment_url=attachment_url,
        attachment_name=attachment_name,
        attachment_stored_name=stored_name,
        location_lat=quick_reply.location_lat,
        location_lng=quick_reply.location_lng,
    )


# --- Polls ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PollSpec:
    """A poll ready to send: a question, 2–12 distinct choices without commas, single/multiple."""

    question: str
    choices: tuple[str, ...]
    multiple: bool = False

    @property
    def select(self) -> str:
        return "multiple" if self.multiple else "single"

    def fonnte_fields(self) -> dict[str, str]:
        """Fonnte `/send` fields (docs/ARCHITECTURE.md, "Fonnte's protocol"): choices travel
        comma-separated."""
        return {"pollname": self.question, "choices": ",".join(self.choices), "select": self.select}


def _normalize_text(value: str) -> str:
    return " ".join(str(value).split())


def poll_choices_normalize(choices: Iterable[str]) -> tuple[str, ...]:
    """Trim each choice (inner runs of spaces become one), drop blank ones, and check what is
    left: 2–12 choices, none containing a comma, none repeated (ignoring letter case).
    Raises ValidationError listing every problem, naming the choices concerned."""
    cleaned = tuple(c for c in (_normalize_text(c) for c in choices) if c)
    problems: list[ValidationError] = []
    if not MIN_POLL_CHOICES <= len(cleaned) <= MAX_POLL_CHOICES:
        problems.append(
            ValidationError(
                _("Give %(min)d to %(max)d choices (you gave %(count)d).")
                % {"min": MIN_POLL_CHOICES, "max": MAX_POLL_CHOICES, "count": len(cleaned)},
                code="choice_count",
            )
        )
    for choice in dict.fromkeys(cleaned):  # each distinct choice once
        if "," in choice:
            # Fonnte sends the choices as one comma-separated string: a comma would split it.
            problems.append(
                ValidationError(
                    _("“%(choice)s” has a comma; WhatsApp gateways separate choices with commas.")
                    % {"choice": choice},
                    code="choice_comma",
                )
            )
    seen: set[str] = set()
    reported: set[str] = set()
    for choice in cleaned:
        key = choice.casefold()
        if key in seen and key not in reported:
            reported.add(key)
            problems.append(
                ValidationError(
                    _("“%(choice)s” is given more than once; choices must differ.")
                    % {"choice": choice},
                    code="choice_duplicate",
                )
            )
        seen.add(key)
    if problems:
        raise ValidationError(problems)
    return cleaned


def poll_spec_build(*, question: str, choices: Iterable[str], multiple: bool) -> PollSpec:
    """Validate and normalize an ad hoc poll. Raises ValidationError keyed by field
    ("question", "choices"), so a form can show each message beside its field."""
    errors: dict[str, list[ValidationError]] = {}
    question = _normalize_text(question or "")
    if not question:
        errors["question"] = [ValidationError(_("Write the poll's question."), code="required")]
    elif len(question) > POLL_QUESTION_MAX_LENGTH:
        errors["question"] = [
            ValidationError(
                _("The question is %(length)d characters long; the limit is %(max)d.")
                % {"length": len(question), "max": POLL_QUESTION_MAX_LENGTH},
                code="max_length",
            )
        ]
    try:
        normalized = poll_choices_normalize(choices)
    except ValidationError as exc:
        errors["choices"] = exc.error_list
    if errors:
        raise ValidationError(errors)
    return PollSpec(question=question, choices=normalized, multiple=bool(multiple))


def poll_spec_from_saved(*, poll: Poll) -> PollSpec:
    """The PollSpec of a saved poll (validated again: the admin may have saved old data)."""
    return poll_spec_build(question=poll.name, choices=poll.choices, multiple=poll.multiple)
