"""The live board's figures for one supervisor's scope (a selector: reads only).

Every figure is an aggregate query filtered by the scope; presence comes from Redis in one
pipelined read (agents.presence), as rotation reads it, so the board and the rotation agree on
who is online (with the same grace period). Rendering is supervision.live's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.models import Agent
from agents.presence import PresenceUnavailable, presence_states
from chats.models import Conversation, Message
from devices_app.models import Device

from .scope import Scope, divisions_for_scope

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Failed or unconfirmed replies younger than this many days are "replies that need a person".
ATTENTION_DAYS = 7


@dataclass(frozen=True)
class AgentRow:
    id: int
    name: str
    division_id: int
    division_name: str
    presence: str  # online / away / offline / unknown
    open_chats: int
    cap: int | None
    unanswered_since: datetime | None

    @property
    def at_cap(self) -> bool:
        return self.cap is not None and self.open_chats >= self.cap


@dataclass(frozen=True)
class DivisionRow:
    id: int
    name: str
    queued: int
    oldest_waiting_since: datetime | None
    online: int


@dataclass(frozen=True)
class DeviceRow:
    id: int
    name: str
    number: str
    division_name: str
    status: str
    status_label: str
    status_changed_at: datetime | None
    quota: str
    package: str
    expires: str

    @property
    def disconnected(self) -> bool:
        return self.status == Device.Status.DISCONNECTED


@dataclass(frozen=True)
class Board:
    agents: list[AgentRow]
    divisions: list[DivisionRow]
    devices: list[DeviceRow]
    messages_in_per_minute: int
    messages_out_per_minute: int
    attention: list[Message]
    attention_count: int
    presence_known: bool
    now: datetime = field(default_factory=timezone.now)

    @property
    def disconnected_devices(self) -> list[DeviceRow]:
        return [d for d in self.devices if d.disconnected]


def agent_ids_by_division(*, scope: Scope) -> dict[int, int]:
    """Active agents the scope covers: {agent id: division id} (the socket's event filter)."""
    return dict(Agent.objects.filter(scope.q(), is_active=True).values_list("pk", "division_id"))


def device_division_ids(*, scope: Scope) -> dict[int, int]:
    return dict(Device.objects.filter(scope.q()).values_list("pk", "division_id"))


def _unanswered_since(agent_ids: list[int]) -> dict[int, datetime]:
    """Per agent, the oldest customer message of their open chats that no reply followed."""
    last_out = (
        Message.objects.filter(conversation=OuterRef("pk"), direction=Message.Direction.OUT)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    first_unanswered = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            direction=Message.Direction.IN,
            created_at__gt=Coalesce(OuterRef("last_out"), Value(EPOCH)),
        )
        .order_by("created_at")
        .values("created_at")[:1]
    )
    rows = (
        Conversation.objects.filter(agent_id__in=agent_ids, status=Conversation.Status.OPEN)
        .annotate(last_out=Subquery(last_out))
        .annotate(unanswered=Subquery(first_unanswered))
        .filter(unanswered__isnull=False)
        .values("agent_id")
        .annotate(oldest=Min("unanswered"))
        .values_list("agent_id", "oldest")
    )
    return dict(rows)


def board_read(*, scope: Scope, now: datetime | None = None) -> Board:
    now = now or timezone.now()
    divisions = list(divisions_for_scope(scope=scope))
    agents = list(
        Agent.objects.filter(scope.q(), is_active=True)
        .select_related("division")
        .order_by("division__name", "name")
    )
    ids = [a.pk for a in agents]
    try:
        presence = presence_states(agent_ids=ids)
        presence_known = True
    except PresenceUnavailable:
        presence, presence_known = {}, False
    open_counts = dict(
        Conversation.objects.filter(agent_id__in=ids, status=Conversation.Status.OPEN)
        .values("agent_id")
        .annotate(n=Count("pk"))
        .values_list("agent_id", "n")
    )
    unanswered = _unanswered_since(ids) if ids else {}
    agent_rows = [
        AgentRow(
            id=a.pk,
            name=a.name,
            division_id=a.division_id,
            division_name=a.division.name,
            presence=presence.get(a.pk, "unknown"),
            open_chats=open_counts.get(a.pk, 0),
            cap=a.division.max_open_chats if a.max_open_chats is None else a.max_open_chats,
            unanswered_since=unanswered.get(a.pk),
        )
        for a in agents
    ]
    queues = {
        row["division_id"]: row
        for row in Conversation.objects.filter(scope.q(), status=Conversation.Status.QUEUED)
        .values("division_id")
        .annotate(n=Count("pk"), oldest=Min("opened_at"))
    }
    division_rows = [
        DivisionRow(
            id=d.pk,
            name=d.name,
            queued=queues.get(d.pk, {}).get("n", 0),
            oldest_waiting_since=queues.get(d.pk, {}).get("oldest"),
            online=sum(1 for a in agent_rows if a.division_id == d.pk and a.presence == "online"),
        )
        for d in divisions
    ]
    device_rows = [
        DeviceRow(
            id=d.pk,
            name=d.name,
            number=d.display_number,
            division_name=d.division.name,
            status=d.status,
            status_label=d.get_status_display(),
            status_changed_at=d.status_changed_at,
            quota=d.quota,
            package=d.package,
            expires=d.expires,
        )
        for d in Device.objects.filter(scope.q(), is_active=True)
        .select_related("division")
        .order_by("name")
    ]
    minute = Message.objects.filter(
        scope.q("conversation__division"), created_at__gte=now - timedelta(minutes=1)
    ).aggregate(
        n_in=Count("pk", filter=Q(direction=Message.Direction.IN)),
        n_out=Count("pk", filter=Q(direction=Message.Direction.OUT)),
    )
    attention_qs = (
        Message.objects.filter(
            scope.q("conversation__division"),
            direction=Message.Direction.OUT,
            status__in=[Message.Status.FAILED, Message.Status.UNCONFIRMED],
            # Recent ones: an older failure nobody retried is history (the reports count it),
            # and the bound keeps this on the (status, created_at) index on a large desk.
            created_at__gte=now - timedelta(days=ATTENTION_DAYS),
        )
        .exclude(conversation__status=Conversation.Status.RESOLVED)
        .select_related("conversation__contact", "sender_agent")
        .order_by("-created_at")
    )
    return Board(
        agents=agent_rows,
        divisions=division_rows,
        devices=device_rows,
        messages_in_per_minute=minute["n_in"],
        messages_out_per_minute=minute["n_out"],
        attention=list(attention_qs[:10]),
        attention_count=attention_qs.count(),
        presence_known=presence_known,
        now=now,
    )
