"""Real OS processes assigning in one division at the same moment (SQLite and PostgreSQL).

The pool row lock (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) must make the picks of
all processes one sequence of whole cycles: no agent twice in a cycle, no cycle missing anyone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from django.utils import timezone

from chats.models import Conversation
from rotation.models import AssignmentLog
from rotation.services import division_pool
from tests.factories import DeviceFactory, DivisionFactory

from .helpers import make_agents, new_conversation, run_children, start_children

pytestmark = pytest.mark.django_db(transaction=True)

PROCESSES = 8
PER_PROCESS = 250
AGENTS = 5


def cycles_of(pool: str) -> dict[int, list[int]]:
    by_cycle: dict[int, list[int]] = defaultdict(list)
    # Log rows are written under the pool lock, so id order is pick order.
    for cycle, member in (
        AssignmentLog.objects.filter(pool=pool).order_by("id").values_list("cycle", "chosen_member")
    ):
        by_cycle[cycle].append(member)
    return by_cycle


def test_concurrent_processes_split_picks_into_whole_permutations():
    division = DivisionFactory(online_only=False)
    device = DeviceFactory(division=division)
    agents = make_agents(division, AGENTS)
    procs = start_children(
        [
            ["assign", str(division.pk), str(device.pk), str(n), str(PER_PROCESS)]
            for n in range(PROCESSES)
        ]
    )
    run_children(procs)

    total = PROCESSES * PER_PROCESS
    assert Conversation.objects.filter(division=division, status="open").count() == total
    cycles = cycles_of(division_pool(division.pk))
    assert sorted(cycles) == list(range(1, total // AGENTS + 1))
    everyone = sorted(a.pk for a in agents)
    for cycle, members in cycles.items():
        assert sorted(members) == everyone, f"cycle {cycle}: {members}"
    # And the order inside cycles really is random, not a fixed round robin.
    assert len({tuple(members) for members in cycles.values()}) > 10


def test_concurrent_drains_assign_each_queued_chat_once_oldest_first():
    division = DivisionFactory(online_only=False)
    device = DeviceFactory(division=division)
    agents = make_agents(division, 3)
    start = timezone.now() - dt.timedelta(hours=1)
    queued = []
    for i in range(60):
        conversation = new_conversation(division, device=device)
        # Distinct, shuffled-insert-order opening times: the drain must order by them, not by id.
        opened = start + dt.timedelta(seconds=(i * 37) % 60)
        Conversation.objects.filter(pk=conversation.pk).update(opened_at=opened)
        queued.append((opened, conversation.pk))
    procs = start_children([["drain", str(division.pk), "7"] for _ in range(4)])
    outputs = run_children(procs)

    assert sum(int(out.split()[-1]) for out in outputs) == 60
    assert not Conversation.objects.filter(division=division, status="queued").exists()
    logs = list(
        AssignmentLog.objects.filter(pool=division_pool(division.pk))
        .order_by("id")
        .values_list("conversation_id", "trigger", "cycle", "chosen_member")
    )
    assert [row[0] for row in logs] == [pk for _, pk in sorted(queued)]
    assert {row[1] for row in logs} == {AssignmentLog.Trigger.QUEUE_DRAIN}
    cycles = defaultdict(list)
    for _, _, cycle, member in logs:
        cycles[cycle].append(member)
    assert all(sorted(m) == sorted(a.pk for a in agents) for m in cycles.values())
