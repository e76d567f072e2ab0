"""Property tests: random join / leave / offline / capacity sequences never break the rotation."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rotation.models import RotationState
from rotation.services import Member

from .helpers import pick

pytestmark = pytest.mark.django_db

IDS = st.integers(min_value=1, max_value=6)
REASONS = st.sampled_from(["", "", "offline", "away", "at_capacity"])
OPS = st.one_of(
    st.tuples(st.just("join"), IDS),
    st.tuples(st.just("leave"), IDS),
    st.tuples(st.just("avail"), IDS, REASONS),
    st.tuples(st.just("pick")),
    st.tuples(st.just("pick")),
    st.tuples(st.just("pick")),
)
# Each member's weight is fixed for an example; rotator links use weights, divisions all 1.
WEIGHTS = st.fixed_dictionaries({i: st.integers(min_value=1, max_value=3) for i in range(1, 7)})


def run(ops, weights, mode, skipped_turn, seed):
    pool = f"test:{uuid.uuid4().hex[:12]}"
    rng = random.Random(seed)
    in_pool: set[int] = {1, 2}
    reason: dict[int, str] = defaultdict(str)
    history = []
    for op in ops:
        if op[0] == "join":
            in_pool.add(op[1])
        elif op[0] == "leave":
            in_pool.discard(op[1])
        elif op[0] == "avail":
            reason[op[1]] = op[2]
        else:
            members = [
                Member(id=i, weight=weights[i], unavailable=reason[i]) for i in sorted(in_pool)
            ]
            result = pick(pool, members, mode=mode, rng=rng, skipped_turn=skipped_turn)
            state = RotationState.objects.get(pool=pool)
            history.append((members, result, state))
    return history


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(OPS, max_size=60),
    weights=WEIGHTS,
    skipped_turn=st.sampled_from(["keep", "forfeit"]),
    seed=st.integers(0, 2**32),
)
def test_full_rotation_invariants(ops, weights, skipped_turn, seed):
    history = run(ops, weights, "full", skipped_turn, seed)
    per_cycle: dict[int, Counter] = defaultdict(Counter)
    previous_cycle = None
    for members, result, state in history:
        available = {m.id for m in members if not m.unavailable}
        # Only an available member of the pool is ever chosen, and someone always is if any.
        if available:
            assert result.member_id in available
        else:
            assert result.member_id is None
        if result.member_id is not None and not result.kept_turn:
            per_cycle[result.cycle][result.member_id] += 1
            # Never more turns in one cycle than the member's weight.
            assert per_cycle[result.cycle][result.member_id] <= weights[result.member_id]
        # A cycle only ends when every member available at that moment has used all its
        # turns: no turn is ever lost.
        if previous_cycle is not None and result.cycle == previous_cycle + 1:
            for m in members:
                if not m.unavailable:
                    assert per_cycle[previous_cycle][m.id] == m.weight
        previous_cycle = result.cycle
        # Kept turns: bounded to one cycle's worth, only for members still in the pool,
        # and none at all when the division forfeits them.
        kept = {int(k): v for k, v in state.kept_turns.items()}
        assert all(0 < v <= weights[k] for k, v in kept.items())
        assert set(kept) <= {m.id for m in members}
        if skipped_turn == "forfeit":
            assert not kept
        # The persisted cycle never holds a turn for someone outside the pool.
        assert set(state.remaining) <= {m.id for m in members}


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(OPS, max_size=40), weights=WEIGHTS, seed=st.integers(0, 2**32))
def test_partial_rotation_only_picks_available_members(ops, weights, seed):
    for members, result, _state in run(ops, weights, "partial", "keep", seed):
        available = {m.id for m in members if not m.unavailable}
        assert (result.member_id in available) if available else result.member_id is None
