"""Assigning conversations: eligibility, the queue, sticky contacts, the log, the pushes."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from agents.presence import presence_set_away
from agents.services import agent_set_active
from chats.models import Conversation
from chats.services.assignment import conversation_assign, queue_drain, queue_drain_all
from chats.tasks.assignment import queue_drain_task
from rotation.models import AssignmentLog
from rotation.selectors import assignment_log_explain, assignment_logs_for_conversation
from rotation.services import division_pool
from tests.factories import ContactFactory, DeviceFactory, DivisionFactory

from .helpers import make_agents, new_conversation, online

pytestmark = pytest.mark.django_db

NEW = AssignmentLog.Trigger.NEW_CHAT


def assign(conversation, rng=None):
    return conversation_assign(conversation=conversation, trigger=NEW, rng=rng)


def test_full_rotation_gives_each_online_agent_one_chat_per_cycle():
    division = DivisionFactory()
    agents = make_agents(division, 3)
    for agent in agents:
        online(agent)
    rng = random.Random(3)
    chosen = [assign(new_conversation(division), rng) for _ in range(9)]
    for c in range(3):
        assert sorted(a.pk for a in chosen[c * 3 : c * 3 + 3]) == sorted(a.pk for a in agents)
    conversation = Conversation.objects.filter(division=division).first()
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.assigned_at is not None


def test_online_only_skips_offline_agents_and_says_so():
    division = DivisionFactory(online_only=True)
    here, gone = make_agents(division, 2)
    online(here)
    for _ in range(4):
        conversation = new_conversation(division)
        assert assign(conversation) == here
    log = AssignmentLog.objects.filter(conversation=conversation).get()
    assert [(row["id"], row["reason"]) for row in log.skipped] == [(gone.pk, "offline")]


def test_offline_agents_get_chats_when_the_division_allows_it_but_away_agents_never():
    division = DivisionFactory(online_only=False)
    offline_agent, away_agent = make_agents(division, 2)
    presence_set_away(agent_id=away_agent.pk, away=True)
    for _ in range(3):
        assert assign(new_conversation(division)) == offline_agent
    assert AssignmentLog.objects.filter(agent=offline_agent).count() == 3
    skipped = AssignmentLog.objects.filter(pool=division_pool(division.pk)).first().skipped
    assert [(row["id"], row["reason"]) for row in skipped] == [(away_agent.pk, "away")]


def test_capacity_limits_open_chats_and_the_agent_limit_overrides_the_division():
    division = DivisionFactory(online_only=False, max_open_chats=2)
    a, b = make_agents(division, 2)
    b.max_open_chats = 1
    b.save()
    results = [assign(new_conversation(division)) for _ in range(4)]
    assert sorted(r.pk if r else 0 for r in results) == sorted([0, a.pk, a.pk, b.pk])
    queued = Conversation.objects.get(division=division, status="queued")
    log = AssignmentLog.objects.get(conversation=queued)
    assert log.chosen_member is None
    assert "nobody_eligible" in log.note
    assert {row["id"]: row.get("detail") for row in log.skipped} == {a.pk: "2/2", b.pk: "1/1"}


def test_nobody_eligible_leaves_the_chat_queued():
    division = DivisionFactory(online_only=True)
    make_agents(division, 2)
    conversation = new_conversation(division)
    assert assign(conversation) is None
    conversation.refresh_from_db()
    assert (conversation.status, conversation.agent) == ("queued", None)


def test_no_agents_at_all_queues_too():
    division = DivisionFactory()
    assert assign(new_conversation(division)) is None
    assert AssignmentLog.objects.get(pool=division_pool(division.pk)).candidates == []


def test_an_assigned_conversation_keeps_its_agent():
    division = DivisionFactory(online_only=False)
    a, b = make_agents(division, 2)
    conversation = new_conversation(division, agent=a, status="open")
    assert assign(conversation) == a
    assert not AssignmentLog.objects.filter(conversation=conversation).exists()


def resolved_episode(division, contact, agent):
    return new_conversation(
        division,
        contact=contact,
        agent=agent,
        status="resolved",
        resolved_at=timezone.now() - dt.timedelta(days=1),
    )


def test_returning_contact_goes_back_to_their_previous_agent_without_using_a_turn():
    division = DivisionFactory(online_only=False)
    agents = make_agents(division, 3)
    contact = ContactFactory(device=DeviceFactory(division=division))
    resolved_episode(division, contact, agents[1])
    again = new_conversation(division, contact=contact)
    assert assign(again) == agents[1]
    log = AssignmentLog.objects.get(conversation=again)
    assert log.trigger == AssignmentLog.Trigger.RETURNING
    assert "previous_agent" in log.note.split(";")
    # The rotation's cycle did not move: the next three new chats still go to all three.
    chosen = [assign(new_conversation(division)) for _ in range(3)]
    assert sorted(a.pk for a in chosen) == sorted(a.pk for a in agents)


def test_returning_contact_goes_through_rotation_when_the_previous_agent_is_not_eligible():
    division = DivisionFactory(online_only=True)
    previous, other = make_agents(division, 2)
    online(other)
    contact = ContactFactory(device=DeviceFactory(division=division))
    resolved_episode(division, contact, previous)
    again = new_conversation(division, contact=contact)
    assert assign(again) == other
    log = AssignmentLog.objects.get(conversation=again)
    assert log.trigger == NEW
    assert "previous_agent_unavailable" in log.note


def test_returning_contact_goes_through_rotation_when_the_division_turns_sticky_off():
    division = DivisionFactory(online_only=False, sticky_returning_contacts=False)
    agents = make_agents(division, 2)
    contact = ContactFactory(device=DeviceFactory(division=division))
    resolved_episode(division, contact, agents[0])
    assign(new_conversation(division))  # uses one turn of the cycle
    log_count = AssignmentLog.objects.count()
    again = new_conversation(division, contact=contact)
    assign(again)
    assert AssignmentLog.objects.count() == log_count + 1
    assert AssignmentLog.objects.get(conversation=again).trigger == NEW


def test_deactivated_and_moved_agents_leave_the_pool_mid_cycle():
    division, other_division = (
        DivisionFactory(online_only=False),
        DivisionFactory(online_only=False),
    )
    a, b, c = make_agents(division, 3)
    rng = random.Random(1)
    first = assign(new_conversation(division), rng)
    remaining = [x for x in (a, b, c) if x != first]
    agent_set_active(agent=remaining[0], active=False)
    moved = remaining[1]
    moved.division = other_division
    moved.save()
    # Only `first` is left in the pool: it starts a new cycle at once.
    nxt = assign(new_conversation(division), rng)
    assert nxt == first
    assert AssignmentLog.objects.filter(conversation__division=division).first().cycle == 2
    # The moved agent takes part in the other division's rotation.
    assert assign(new_conversation(other_division), rng) == moved


def test_queue_drains_oldest_first_when_an_agent_becomes_eligible():
    division = DivisionFactory(online_only=True, max_open_chats=2)
    (agent,) = make_agents(division, 1)
    now = timezone.now()
    conversations = []
    for minutes in (5, 30, 10):
        conversation = new_conversation(division)
        Conversation.objects.filter(pk=conversation.pk).update(
            opened_at=now - dt.timedelta(minutes=minutes)
        )
        assert assign(conversation) is None
        conversations.append(conversation)
    assert queue_drain(division=division) == []  # nobody online yet: writes nothing
    logs_before = AssignmentLog.objects.count()
    online(agent)
    assigned = queue_drain(division=division)
    # Oldest first (30, then 10 minutes), until the agent is at their limit.
    assert assigned == [conversations[1].pk, conversations[2].pk]
    assert Conversation.objects.get(status="queued") == conversations[0]
    new_logs = AssignmentLog.objects.filter(pk__gt=0).order_by("id")[logs_before:]
    assert [log.trigger for log in new_logs] == ["queue_drain", "queue_drain"]
    assert all("from_queue" in log.note for log in new_logs)


def test_beat_task_drains_every_division_with_a_queue():
    one, two = DivisionFactory(online_only=False), DivisionFactory(online_only=False)
    for division in (one, two):
        conversation = new_conversation(division)
        Conversation.objects.filter(pk=conversation.pk).update(status="queued")
    make_agents(one, 1)
    make_agents(two, 1)
    assert queue_drain_task() == {str(one.pk): 1, str(two.pk): 1}
    assert queue_drain_all() == {}
    assert not Conversation.objects.filter(status="queued").exists()


def test_drain_gives_a_returning_contact_back_to_their_previous_agent():
    division = DivisionFactory(online_only=True)
    previous, other = make_agents(division, 2)
    contact = ContactFactory(device=DeviceFactory(division=division))
    resolved_episode(division, contact, previous)
    queued = new_conversation(division, contact=contact)
    assert assign(queued) is None
    online(other)
    online(previous)
    queue_drain(division=division)
    queued.refresh_from_db()
    assert queued.agent == previous


def test_without_redis_online_only_divisions_queue_and_others_still_assign(settings):
    strict = DivisionFactory(online_only=True)
    relaxed = DivisionFactory(online_only=False)
    make_agents(strict, 1)
    (agent,) = make_agents(relaxed, 1)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    assert assign(new_conversation(strict)) is None
    log = AssignmentLog.objects.get(pool=division_pool(strict.pk))
    assert log.skipped[0]["reason"] == "presence_unknown"
    assert assign(new_conversation(relaxed)) == agent


def test_a_resolved_conversation_is_not_assigned():
    division = DivisionFactory(online_only=False)
    make_agents(division, 1)
    conversation = new_conversation(division, status="resolved")
    assert assign(conversation) is None
    assert not AssignmentLog.objects.exists()


def test_why_this_agent_reads_the_log_in_words():
    division = DivisionFactory(online_only=True)
    here, gone = make_agents(division, 2)
    online(here)
    conversation = new_conversation(division)
    assign(conversation)
    (log,) = assignment_logs_for_conversation(conversation=conversation)
    why = assignment_log_explain(log=log)
    assert why.chosen == here.name
    assert why.candidates == [here.name]
    assert [(s.name, s.reason) for s in why.skipped] == [(gone.name, "offline")]
