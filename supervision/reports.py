"""Report figures over a date range in the viewer's time zone (a selector: reads only).

The range is whole days in the viewer's zone: from `start` 00:00 to the end of `end`, as
aware datetimes, so a conversation opened at 23:30 WIB counts on that WIB day whatever UTC says.
Counts are aggregate queries grouped in the database; durations are fetched as two timestamps
per conversation and reduced in Python (median, and p90 as the nearest rank: the smallest value
with at least 90 % of the values at or below it). Business hours are not subtracted: Sapa has
no opening-hours schedule yet.

What each figure means, per division (the conversation's division now) and per agent:
- opened: conversations opened in the range (per agent: those the agent holds or held last);
- assigned: assignment log rows in the range that gave a chat to an agent (any trigger);
- resolved: conversations resolved in the range;
- first response: opened in the range and answered, first reply minus opening;
- resolution: resolved in the range, resolution minus opening;
- messages in / out: customer messages / agent replies created in the range (per agent: in is
  the customer messages of the agent's chats, out the replies the agent sent);
- failed / unconfirmed: replies created in the range that are in that state now;
- transfers: assignment log rows with trigger "transfer" in the range (per agent: received).
"""

from __future__ import annotations

import math
import statistics
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from agents.models import Agent
from chats.models import Conversation, Message
from rotation.models import AssignmentLog

from .scope import Scope, divisions_for_scope

Trigger = AssignmentLog.Trigger


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    time_zone: str

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=zoneinfo.ZoneInfo(self.time_zone))

    @property
    def until(self) -> datetime:
        next_day = self.end + timedelta(days=1)
        return datetime.combine(next_day, time.min, tzinfo=zoneinfo.ZoneInfo(self.time_zone))


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


@dataclass
class Row:
    key: int
    name: str
    opened: int = 0
    assigned: int = 0
    resolved: int = 0
    messages_in: int = 0
    messages_out: int = 0
    failed: int = 0
    unconfirmed: int = 0
    transfers: int = 0
    first_response: list[float] = field(default_factory=list, repr=False)
    resolution: list[float] = field(default_factory=list, repr=False)

    @property
    def first_response_median(self) -> float | None:
        return median(self.first_response)

    @property
    def first_response_p90(self) -> float | None:
        return p90(self.first_response)

    @property
    def resolution_median(self) -> float | None:
        return median(self.resolution)

    @property
    def resolution_p90(self) -> float | None:
        return p90(self.resolution)


@dataclass(frozen=True)
class Report:
    period: Period
    divisions: list[Row]
    agents: list[Row]
    heatmap: list[list[int]]  # [weekday 0=Monday][hour 0..23], customer messages

    @property
    def heatmap_max(self) -> int:
        return max((n for row in self.heatmap for n in row), default=0)


def _count_into(rows: dict[int, Row], qs, key: str, attr: str) -> None:
    for group, n in qs.values(key).annotate(n=Count("pk")).values_list(key, "n"):
        if group in rows:
            setattr(rows[group], attr, getattr(rows[group], attr) + n)


def _fill(rows: dict[int, Row], *, scope: Scope, period: Period, per: str) -> None:
    """`per` is "division" or "agent": the field each figure is grouped by."""
    since, until = period.since, period.until
    conv_key = "division_id" if per == "division" else "agent_id"
    conversations = Conversation.objects.filter(scope.q())
    opened = conversations.filter(opened_at__gte=since, opened_at__lt=until)
    resolved = conversations.filter(resolved_at__gte=since, resolved_at__lt=until)
    _count_into(rows, opened, conv_key, "opened")
    _count_into(rows, resolved, conv_key, "resolved")
    logs = AssignmentLog.objects.filter(
        scope.q("conversation__division"),
        agent__isnull=False,
        created_at__gte=since,
        created_at__lt=until,
    )
    log_key = "conversation__division_id" if per == "division" else "agent_id"
    _count_into(rows, logs, log_key, "assigned")
    _count_into(rows, logs.filter(trigger=Trigger.TRANSFER), log_key, "transfers")

    messages = Message.objects.filter(
        scope.q("conversation__division"), created_at__gte=since, created_at__lt=until
    )
    in_key = "conversation__division_id" if per == "division" else "conversation__agent_id"
    out_key = "conversation__division_id" if per == "division" else "sender_agent_id"
    _count_into(rows, messages.filter(direction=Message.Direction.IN), in_key, "messages_in")
    out = messages.filter(direction=Message.Direction.OUT)
    _count_into(rows, out, out_key, "messages_out")
    _count_into(rows, out.filter(status=Message.Status.FAILED), out_key, "failed")
    _count_into(rows, out.filter(status=Message.Status.UNCONFIRMED), out_key, "unconfirmed")

    answered = opened.filter(first_response_at__isnull=False)
    for group, start, end in answered.values_list(conv_key, "opened_at", "first_response_at"):
        if group in rows:
            rows[group].first_response.append((end - start).total_seconds())
    for group, start, end in resolved.values_list(conv_key, "opened_at", "resolved_at"):
        if group in rows:
            rows[group].resolution.append((end - start).total_seconds())


def _heatmap(*, scope: Scope, period: Period) -> list[list[int]]:
    tz = zoneinfo.ZoneInfo(period.time_zone)
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        Message.objects.filter(
            scope.q("conversation__division"),
            direction=Message.Direction.IN,
            created_at__gte=period.since,
            created_at__lt=period.until,
        )
        .annotate(
            weekday=ExtractIsoWeekDay("created_at", tzinfo=tz),
            hour=ExtractHour("created_at", tzinfo=tz),
        )
        .values("weekday", "hour")
        .annotate(n=Count("pk"))
        .values_list("weekday", "hour", "n")
    )
    for weekday, hour, n in rows:
        grid[weekday - 1][hour] += n
    return grid


def report_read(*, scope: Scope, period: Period) -> Report:
    divisions = {d.pk: Row(key=d.pk, name=d.name) for d in divisions_for_scope(scope=scope)}
    agents = {
        a.pk: Row(key=a.pk, name=f"{a.name} ({a.division.name})")
        for a in Agent.objects.filter(scope.q()).select_related("division").order_by("name")
    }
    _fill(divisions, scope=scope, period=period, per="division")
    _fill(agents, scope=scope, period=period, per="agent")
    return Report(
        period=period,
        divisions=list(divisions.values()),
        agents=list(agents.values()),
        heatmap=_heatmap(scope=scope, period=period),
    )


def report_totals(rows: list[Row]) -> dict[str, int]:
    names = [
        "opened",
        "assigned",
        "resolved",
        "messages_in",
        "messages_out",
        "failed",
        "unconfirmed",
        "transfers",
    ]
    return {name: sum(getattr(r, name) for r in rows) for name in names}
