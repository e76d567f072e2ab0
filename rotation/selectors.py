from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .models import AssignmentLog, LogNote, RotatorLink, SkipReason


def rotator_link_get_active(*, slug: str) -> RotatorLink | None:
    return RotatorLink.objects.filter(slug=slug, is_active=True).first()


def assignment_logs_for_conversation(*, conversation) -> QuerySet[AssignmentLog]:
    """Every assignment decision about one conversation, newest first ("why this agent")."""
    return AssignmentLog.objects.filter(conversation=conversation).select_related("agent")


@dataclass(frozen=True)
class SkippedMember:
    name: str
    reason: str
    detail: str = ""
    turn: str = ""


@dataclass(frozen=True)
class Explanation:
    """An AssignmentLog row in words, for the admin now and the chat's "why this agent" later."""

    headline: str  # what happened: the trigger, or "Started by the agent"
    chosen: str
    candidates: list[str]
    skipped: list[SkippedMember]
    notes: list[str]


_TURNS = {"kept": _("turn kept for later"), "forfeited": _("turn forfeited")}


def assignment_log_explain(*, log: AssignmentLog) -> Explanation:
    reasons = dict(SkipReason.choices)
    notes = dict(LogNote.choices)
    if log.agent_id:
        chosen = str(log.agent)
    elif log.device_id:
        chosen = str(log.device)
    elif log.chosen_member:
        chosen = f"#{log.chosen_member}"
    else:
        chosen = str(_("nobody (queued)") if log.conversation_id else _("nobody"))
    rows = [row for row in log.skipped if isinstance(row, dict)]
    codes = [code for code in log.note.split(";") if code]
    headline = str(log.get_trigger_display())
    if LogNote.STARTED_BY_AGENT in codes and LogNote.FROM_QUEUE not in codes:
        # TAKE is logged, but nothing was taken: the agent opened the chat with "New chat".
        headline = str(_("Started by the agent"))
        codes.remove(LogNote.STARTED_BY_AGENT)
    return Explanation(
        headline=headline,
        chosen=chosen,
        candidates=[
            str(row.get("name") or row.get("id")) for row in log.candidates if isinstance(row, dict)
        ],
        skipped=[
            SkippedMember(
                name=str(row.get("name") or row.get("id")),
                reason=str(reasons.get(row.get("reason"), row.get("reason", ""))),
                detail=str(row.get("detail", "")),
                turn=str(_TURNS.get(row.get("turn"), "")),
            )
            for row in rows
        ],
        notes=[str(notes.get(code, code)) for code in codes],
    )
