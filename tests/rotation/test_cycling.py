"""Full and partial cycling at the pool level (rotation.services), against the real database."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from rotation.models import RotationState
from rotation.services import Member

from .helpers import pick

pytestmark = pytest.mark.django_db

FIVE = [Member(id=i, label=f"m{i}") for i in range(1, 6)]


def test_full_picks_every_member_once_per_cycle_over_many_cycles():
    rng = random.Random(7)
    picks = [pick("test:full", FIVE, rng=rng) for _ in range(5 * 200)]
    for c in range(200):
        cycle = picks[c * 5 : c * 5 + 5]
        assert {p.cycle for p in cycle} == {c + 1}
        assert sorted(p.member_id for p in cycle) == [1, 2, 3, 4, 5]
    # Random order: many different orders, and every member opens some cycle.
    orders = {tuple(p.member_id for p in picks[c * 5 : c * 5 + 5]) for c in range(200)}
    assert len(orders) > 50
    assert {picks[c * 5].member_id for c in range(200)} == {1, 2, 3, 4, 5}


def test_the_cycle_is_persisted_between_picks():
    pick("test:persist", FIVE, rng=random.Random(1))
    pick("test:persist", FIVE, rng=random.Random(2))
    state = RotationState.objects.get(pool="test:persist")
    assert state.cycle == 1
    assert len(state.remaining) == 3 and len(state.picked) == 2
    assert sorted(state.remaining + state.picked) == [1, 2, 3, 4, 5]
    # A fresh random source (a restarted process) continues the same cycle.
    rest = [pick("test:persist", FIVE, rng=random.Random(99)).member_id for _ in range(3)]
    assert sorted(rest) == sorted(state.remaining)


def test_partial_is_uniform_and_repeats():
    rng = random.Random(2026)
    n = 5000
    picks = [pick("test:partial", FIVE, mode="partial", rng=rng).member_id for _ in range(n)]
    counts = Counter(picks)
    expected = n / 5
    chi2 = sum((counts[m.id] - expected) ** 2 / expected for m in FIVE)
    # 4 degrees of freedom: 18.47 is the 0.1 % critical value.
    assert chi2 < 18.47, counts
    repeats = sum(a == b for a, b in zip(picks, picks[1:], strict=False))
    # Independent picks repeat the previous member about one time in five.
    assert 0.15 * n < repeats < 0.25 * n


def test_partial_skips_unavailable_members():
    members = [*FIVE[:4], Member(id=5, label="m5", unavailable="offline")]
    picks = {pick("test:partial-skip", members, mode="partial").member_id for _ in range(200)}
    assert picks == {1, 2, 3, 4}


def test_weights_give_that_many_turns_per_full_cycle():
    members = [Member(id=1, weight=3), Member(id=2, weight=1), Member(id=3, weight=2)]
    picks = [pick("test:weights", members, rng=random.Random(3)) for _ in range(6 * 50)]
    for c in range(50):
        cycle = picks[c * 6 : c * 6 + 6]
        assert Counter(p.member_id for p in cycle) == {1: 3, 2: 1, 3: 2}
        assert {p.cycle for p in cycle} == {c + 1}


def test_partial_respects_weights():
    members = [Member(id=1, weight=3), Member(id=2, weight=1)]
    rng = random.Random(5)
    counts = Counter(
        pick("test:pw", members, mode="partial", rng=rng).member_id for _ in range(2000)
    )
    assert 0.70 < counts[1] / 2000 < 0.80


def test_unavailable_member_is_skipped_and_keeps_its_turn_for_when_it_returns():
    rng = random.Random(11)
    away = [*FIVE[:4], Member(id=5, unavailable="offline")]
    first = [pick("test:keep", away, rng=rng) for _ in range(4)]
    assert sorted(p.member_id for p in first) == [1, 2, 3, 4]
    # Only member 5 has a turn left and is offline: the cycle ends and 5 keeps the turn.
    nxt = pick("test:keep", away, rng=rng)
    assert nxt.cycle == 2
    assert nxt.log.skipped[0] == {"id": 5, "name": "", "reason": "offline", "turn": "kept"}
    assert RotationState.objects.get(pool="test:keep").kept_turns == {"5": 1}
    # Member 5 comes back: the kept turn is served first, then they still have this cycle's.
    back = pick("test:keep", FIVE, rng=rng)
    assert (back.member_id, back.kept_turn) == (5, True)
    assert "kept_turn" in back.log.note
    rest = [pick("test:keep", FIVE, rng=rng) for _ in range(4)]
    assert sorted([nxt.member_id] + [p.member_id for p in rest]) == [1, 2, 3, 4, 5]
    assert {p.cycle for p in rest} == {2}


def test_kept_turns_are_bounded_to_one_cycle():
    rng = random.Random(4)
    away = [*FIVE[:4], Member(id=5, unavailable="at_capacity")]
    for _ in range(4 * 10):
        pick("test:bound", away, rng=rng)
    assert RotationState.objects.get(pool="test:bound").kept_turns == {"5": 1}


def test_forfeit_drops_the_skipped_turn():
    rng = random.Random(12)
    away = [*FIVE[:4], Member(id=5, unavailable="away")]
    for _ in range(5):
        last = pick("test:forfeit", away, rng=rng, skipped_turn="forfeit")
    assert last.cycle == 2
    assert last.log.skipped[0]["turn"] == "forfeited"
    assert RotationState.objects.get(pool="test:forfeit").kept_turns == {}
    back = pick("test:forfeit", FIVE, rng=rng, skipped_turn="forfeit")
    assert not back.kept_turn


def test_member_joining_mid_cycle_takes_part_in_the_current_cycle():
    rng = random.Random(21)
    three = FIVE[:3]
    first = [pick("test:join", three, rng=rng).member_id for _ in range(2)]
    rest = [pick("test:join", FIVE[:4], rng=rng) for _ in range(2)]
    assert {p.cycle for p in rest} == {1}
    assert sorted(first + [p.member_id for p in rest]) == [1, 2, 3, 4]
    assert pick("test:join", FIVE[:4], rng=rng).cycle == 2


def test_member_leaving_mid_cycle_takes_its_turn_along_and_gets_none_on_rejoin_if_used():
    rng = random.Random(8)
    first = pick("test:leave", FIVE, rng=rng).member_id
    without = [m for m in FIVE if m.id != first]
    rest = [pick("test:leave", without, rng=rng) for _ in range(4)]
    assert sorted(p.member_id for p in rest) == sorted(m.id for m in without)
    assert {p.cycle for p in rest} == {1}
    # Rejoining in the same cycle does not give a second turn.
    assert pick("test:leave", FIVE, rng=rng).cycle == 2


def test_nobody_available_picks_nobody_and_keeps_the_cycle():
    pick("test:none", FIVE, rng=random.Random(1))
    before = RotationState.objects.get(pool="test:none")
    result = pick("test:none", [Member(id=m.id, unavailable="offline") for m in FIVE])
    assert result.member_id is None
    after = RotationState.objects.get(pool="test:none")
    assert (after.cycle, sorted(after.remaining)) == (before.cycle, sorted(before.remaining))
    assert pick("test:none", [], rng=random.Random(1)).member_id is None


def test_log_lists_candidates_and_who_already_had_a_turn():
    rng = random.Random(5)
    first = pick("test:log", FIVE, rng=rng)
    second = pick("test:log", FIVE, rng=rng)
    assert {c["id"] for c in second.log.candidates} == {1, 2, 3, 4, 5} - {first.member_id}
    assert second.log.skipped == [
        {"id": first.member_id, "name": f"m{first.member_id}", "reason": "had_turn"}
    ]
    assert second.log.chosen_member == second.member_id
    assert (second.log.mode, second.log.cycle, second.log.trigger) == ("full", 1, "new_chat")
