"""Property test at the conversation level: random presence, away, capacity, membership and
traffic sequences, with real agents, Redis presence and the database.

After every step the test checks, against its own simple model of who is eligible, that a chat
only ever went to an eligible agent, waits only when nobody was eligible, and that the queue is
drained oldest first.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from agents.models import Agent
from agents.presence import new_connection_id, presence_connect, presence_disconnect
from agents.presence import presence_set_away as set_away
from agents.services import agent_set_active
from chats.models import Conversation
from chats.services.assignment import conversation_assign, queue_drain
from rotation.models import AssignmentLog
from tests.factories import DeviceFactory, DivisionFactory

from .helpers import make_agents, new_conversation

pytestmark = pytest.mark.django_db

N = 4
AGENT = st.integers(min_value=0, max_value=N - 1)
OPS = st.one_of(
    st.tuples(st.just("online"), AGENT),
    st.tuples(st.just("offline"), AGENT),
    st.tuples(st.just("away"), AGENT, st.booleans()),
    st.tuples(st.just("active"), AGENT, st.booleans()),
    st.tuples(st.just("move"), AGENT, st.booleans()),
    st.tuples(st.just("limit"), AGENT, st.one_of(st.none(), st.integers(0, 3))),
    st.tuples(st.just("chat")),
    st.tuples(st.just("chat")),
    st.tuples(st.just("chat")),
    st.tuples(st.just("resolve")),
    st.tuples(st.just("drain")),
)


class World:
    """The test's own model of eligibility, kept beside the real system."""

    def __init__(self, division, other, agents):
        self.division, self.other, self.agents = division, other, agents
        self.conns: dict[int, str] = {}
        self.away: set[int] = set()
        self.clock = timezone.now() - dt.timedelta(days=1)

    def eligible(self) -> set[int]:
        division = self.division
        result = set()
        for agent in Agent.objects.filter(pk__in=[a.pk for a in self.agents]):
            if not agent.is_active or agent.division_id != division.pk or agent.pk in self.away:
                continue
            if division.online_only and agent.pk not in self.conns:
                continue
            limit = (
                division.max_open_chats if agent.max_open_chats is None else agent.max_open_chats
            )
            n_open = Conversation.objects.filter(agent=agent, status="open").count()
            if limit is not None and n_open >= limit:
                continue
            result.add(agent.pk)
        return result

    def queued(self) -> list[int]:
        return list(
            Conversation.objects.filter(division=self.division, status="queued")
            .order_by("opened_at", "pk")
            .values_list("pk", flat=True)
        )

    def new_chat(self):
        self.clock += dt.timedelta(minutes=1)
        conversation = new_conversation(self.division)
        Conversation.objects.filter(pk=conversation.pk).update(opened_at=self.clock)
        return conversation


def check_drain(world, before_queue):
    eligible_before = world.eligible()
    assigned = queue_drain(division=world.division, rng=random.Random(0))
    # Oldest first: what was assigned is a prefix of the queue in opened order.
    assert assigned == before_queue[: len(assigned)]
    # It stops only when the queue is empty or nobody is eligible any more.
    assert not world.queued() or not world.eligible()
    if eligible_before and before_queue:
        assert assigned


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(OPS, min_size=1, max_size=30),
    online_only=st.booleans(),
    division_limit=st.one_of(st.none(), st.integers(1, 3)),
    skipped_turn=st.sampled_from(["keep", "forfeit"]),
    mode=st.sampled_from(["full", "partial"]),
)
def test_assignments_only_ever_go_to_eligible_agents(
    settings, ops, online_only, division_limit, skipped_turn, mode
):
    settings.PRESENCE_GRACE_SECONDS = 0  # "offline" below means gone, not reloading
    division = DivisionFactory(
        online_only=online_only,
        max_open_chats=division_limit,
        skipped_turn=skipped_turn,
        rotation_mode=mode,
    )
    DeviceFactory(division=division)
    other = DivisionFactory()
    world = World(division, other, make_agents(division, N))
    rng = random.Random(1)
    for op in ops:
        kind = op[0]
        if kind in {"online", "offline", "away", "active", "move", "limit"}:
            agent = Agent.objects.get(pk=world.agents[op[1]].pk)
        if kind == "online" and agent.pk not in world.conns:
            world.conns[agent.pk] = new_connection_id()
            presence_connect(agent_id=agent.pk, conn=world.conns[agent.pk])
        elif kind == "offline" and agent.pk in world.conns:
            presence_disconnect(agent_id=agent.pk, conn=world.conns.pop(agent.pk))
        elif kind == "away":
            set_away(agent_id=agent.pk, away=op[2])
            (world.away.add if op[2] else world.away.discard)(agent.pk)
        elif kind == "active":
            agent_set_active(agent=agent, active=op[2])
        elif kind == "move":
            agent.division = world.other if op[2] else world.division
            agent.save(update_fields=["division"])
        elif kind == "limit":
            agent.max_open_chats = op[2]
            agent.save(update_fields=["max_open_chats"])
        elif kind == "chat":
            eligible = world.eligible()
            conversation = world.new_chat()
            chosen = conversation_assign(
                conversation=conversation, trigger=AssignmentLog.Trigger.NEW_CHAT, rng=rng
            )
            if eligible:
                assert chosen is not None and chosen.pk in eligible
            else:
                assert chosen is None
                conversation.refresh_from_db()
                assert conversation.status == "queued"
        elif kind == "resolve":
            oldest = (
                Conversation.objects.filter(division=division, status="open")
                .order_by("opened_at")
                .first()
            )
            if oldest:
                Conversation.objects.filter(pk=oldest.pk).update(
                    status="resolved", resolved_at=timezone.now()
                )
                check_drain(world, world.queued())
        elif kind == "drain":
            check_drain(world, world.queued())
        # Every chat that went to someone has a log row naming that agent.
        for conversation in Conversation.objects.filter(division=division, agent__isnull=False):
            assert AssignmentLog.objects.filter(
                conversation=conversation, agent_id=conversation.agent_id
            ).exists()
