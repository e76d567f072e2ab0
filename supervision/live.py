"""Rendering the board for one supervisor's socket (sync: the consumer runs it in a thread).

The same partial the board view renders, in the supervisor's language and time zone, with the
root id `board`, so a push replaces the node the page has (htmx's ws extension swaps by id)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .board import agent_ids_by_division, board_read, device_division_ids
from .scope import Scope, supervisor_scope_for_user
from .selectors import actions_for_scope

BOARD_PARTIAL = "supervision/partials/board.html"


def board_context(*, scope: Scope) -> dict:
    return {
        "board": board_read(scope=scope),
        "board_actions": actions_for_scope(scope=scope),
        "scope": scope,
    }


def render_board(*, scope: Scope, language: str) -> str:
    with translation.override(language), timezone.override(scope.time_zone):
        return render_to_string(BOARD_PARTIAL, board_context(scope=scope))


def scope_reread(*, user_id: int | None) -> tuple[Scope | None, dict[int, int], dict[int, int]]:
    """The user's scope as the database has it now (staff status may have been taken away since
    the socket opened), with the agents and devices it covers (the socket's event filters)."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    scope = supervisor_scope_for_user(user=user)
    if scope is None:
        return None, {}, {}
    return scope, agent_ids_by_division(scope=scope), device_division_ids(scope=scope)
