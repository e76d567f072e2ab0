"""The rotation: which member of a pool gets the next turn (docs/ARCHITECTURE.md "Rotation
semantics").

A pool is a division's agents ("division:<id>") or a rotator link's numbers ("rotator:<id>").
This module knows nothing about conversations or presence: the caller describes each member
(weight, and why it is unavailable right now, if it is) and gets back the chosen member and the
log row that explains the choice.

- **full**: every member gets `weight` turns per cycle, in random order. Members who are
  unavailable are skipped but keep their turn in the cycle while it lasts. When only unavailable
  members have turns left, the cycle ends; their leftover turns are forfeited or kept (at most
  one cycle's worth, `weight` turns) and served first once they are available again. Members who
  join mid-cycle take part in the current cycle; members who leave take their turns with them.
- **partial**: an independent weighted random choice among the available members each time.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.db.utils import IntegrityError

from .models import AssignmentLog, LogNote, RotationState, RotatorLink, SkipReason

FULL = "full"
PARTIAL = "partial"
FORFEIT = "forfeit"
KEEP = "keep"

# The default random source. Tests pass a seeded `random.Random` instead.
_system_random = random.SystemRandom()


def division_pool(division_id: int) -> str:
    return f"division:{division_id}"


def rotator_pool(link_id: int) -> str:
    return f"rotator:{link_id}"


@dataclass(frozen=True)
class Member:
    """One member of a pool as the caller sees it right now.

    `unavailable` is a `SkipReason` when the member may not be picked now (offline, at capacity…),
    empty when it may; `detail` adds a readable specific ("5/5 open chats").
    """

    id: int
    label: str = ""
    weight: int = 1
    unavailable: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Pick:
    member_id: int | None
    cycle: int
    kept_turn: bool
    log: AssignmentLog


def rotation_state_lock(*, pool: str) -> RotationState:
    """Lock and return the pool's state row, creating it on first use.

    Must run inside a transaction; the lock is held until it ends. PostgreSQL: SELECT … FOR
    UPDATE on the row, so concurrent picks in one pool queue up behind each other. SQLite:
    Django ignores FOR UPDATE there, but settings open every transaction with BEGIN IMMEDIATE,
    which takes the database's write lock up front, so the read-modify-write cannot interleave.
    """
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("rotation_state_lock needs a transaction")
    try:
        return RotationState.objects.select_for_update().get(pool=pool)
    except RotationState.DoesNotExist:
        pass
    try:
        # Two processes may create the first row at once: the loser's INSERT waits for the
        # winner's commit, fails on the unique pool, and falls through to the locked read.
        with transaction.atomic():
            RotationState.objects.create(pool=pool)
    except IntegrityError:
        pass
    return RotationState.objects.select_for_update().get(pool=pool)


def _entry(member: Member, reason: str, **extra) -> dict:
    row = {"id": member.id, "name": member.label, "reason": reason}
    if member.detail:
        row["detail"] = member.detail
    row.update(extra)
    return row


def _log_targets(pool: str, member_id: int | None) -> dict:
    if member_id is None:
        return {}
    if pool.startswith("division:"):
        return {"agent_id": member_id}
    if pool.startswith("rotator:"):
        return {"device_id": member_id}
    return {}


def rotation_log(
    *,
    pool: str,
    mode: str,
    cycle: int,
    trigger: str,
    candidates: Sequence[Member] = (),
    skipped: list[dict] | None = None,
    member_id: int | None = None,
    conversation=None,
    rotator_link: RotatorLink | None = None,
    notes: Sequence[str] = (),
) -> AssignmentLog:
    """Write one assignment log row (also for choices made without a pick: sticky, queued).

    `notes` are `LogNote` codes; the admin shows them translated.
    """
    return AssignmentLog.objects.create(
        pool=pool,
        mode=mode,
        cycle=cycle,
        trigger=trigger,
        candidates=[{"id": m.id, "name": m.label} for m in candidates],
        skipped=skipped or [],
        chosen_member=member_id,
        conversation=conversation,
        rotator_link=rotator_link,
        note=";".join(dict.fromkeys(notes))[:255],
        **_log_targets(pool, member_id),
    )


def _reconcile(state: RotationState, members: Sequence[Member]) -> tuple[list[int], list[int]]:
    """The cycle's remaining and picked turns, adjusted to who is in the pool now."""
    in_pool = {m.id: max(1, m.weight) for m in members}
    remaining = [int(x) for x in state.remaining if int(x) in in_pool]
    picked = [int(x) for x in state.picked]
    if state.cycle == 0:
        state.cycle = 1
    have = Counter(remaining) + Counter(x for x in picked if x in in_pool)
    for member_id, weight in in_pool.items():
        missing = weight - have[member_id]
        if missing > 0:
            # Joined mid-cycle (or weight raised): takes part in this cycle.
            remaining.extend([member_id] * missing)
        elif missing < 0:
            # Weight lowered: drop unused turns, never below what was already picked.
            for _ in range(-missing):
                if member_id not in remaining:
                    break
                remaining.remove(member_id)
    return remaining, picked


def rotation_pick(
    *,
    state: RotationState,
    mode: str,
    members: Sequence[Member],
    trigger: str,
    skipped_turn: str = KEEP,
    rng: random.Random | None = None,
    conversation=None,
    rotator_link: RotatorLink | None = None,
    notes: Sequence[str] = (),
) -> Pick:
    """Pick the next member of a pool and log why; `member_id` is None when nobody is available.

    `state` must come from `rotation_state_lock` in the current transaction: the pick reads and
    rewrites the cycle under that lock, so concurrent picks never give a member two turns in one
    cycle nor lose one. Describe `members` after taking the lock, so availability (e.g. open-chat
    counts) cannot change under the pick. Writes the state (full mode) and one AssignmentLog row.
    Not idempotent: every call uses a turn.
    """
    rng = rng or _system_random
    by_id = {m.id: m for m in members}
    available = [m for m in members if not m.unavailable]
    available_ids = {m.id for m in available}
    skipped = [_entry(m, m.unavailable) for m in members if m.unavailable]
    notes = list(notes)
    chosen: int | None = None
    kept_turn = False

    if mode == PARTIAL:
        draw = [m.id for m in available for _ in range(max(1, m.weight))]
        candidates = available
        if draw:
            chosen = rng.choice(draw)
    else:
        remaining, picked = _reconcile(state, members)
        kept = {int(k): int(v) for k, v in state.kept_turns.items() if int(k) in by_id and v}
        owed = sorted(k for k in kept if k in available_ids)
        if owed:
            # A turn kept from an earlier cycle is served before the current cycle goes on.
            chosen = rng.choice(owed)
            kept[chosen] -= 1
            kept_turn = True
            candidates = [by_id[k] for k in owed]
            notes.append(LogNote.KEPT_TURN)
        else:
            draw = [x for x in remaining if x in available_ids]
            if not draw and available:
                # Only unavailable members still have turns: the cycle ends here.
                leftovers = Counter(remaining)
                for row in skipped:
                    n = leftovers.get(row["id"], 0)
                    if not n:
                        continue
                    if skipped_turn == KEEP:
                        weight = max(1, by_id[row["id"]].weight)
                        kept[row["id"]] = min(weight, kept.get(row["id"], 0) + n)
                        row["turn"] = "kept"
                    else:
                        row["turn"] = "forfeited"
                notes.append(LogNote.CYCLE_ENDED)
                state.cycle += 1
                picked = []
                remaining = [m.id for m in members for _ in range(max(1, m.weight))]
                draw = [x for x in remaining if x in available_ids]
            in_draw = set(draw)
            candidates = [m for m in available if m.id in in_draw]
            skipped.extend(_entry(m, SkipReason.HAD_TURN) for m in available if m.id not in in_draw)
            if draw:
                chosen = rng.choice(draw)
                remaining.remove(chosen)
                picked.append(chosen)
        state.remaining = remaining
        state.picked = picked
        state.kept_turns = {str(k): v for k, v in sorted(kept.items()) if v > 0}
        state.save(update_fields=["cycle", "remaining", "picked", "kept_turns", "updated_at"])

    log = rotation_log(
        pool=state.pool,
        mode=mode,
        cycle=state.cycle,
        trigger=trigger,
        candidates=candidates,
        skipped=skipped,
        member_id=chosen,
        conversation=conversation,
        rotator_link=rotator_link,
        notes=notes,
    )
    return Pick(member_id=chosen, cycle=state.cycle, kept_turn=kept_turn, log=log)


def _rotator_members(link: RotatorLink) -> tuple[list[Member], dict]:
    members, devices = [], {}
    for m in link.members.select_related("device").order_by("device_id"):
        device = devices[m.device_id] = m.device
        unavailable = ""
        if not device.is_active:
            unavailable = SkipReason.INACTIVE
        elif device.status == device.Status.DISCONNECTED:
            unavailable = SkipReason.DISCONNECTED
        members.append(
            Member(id=device.pk, label=device.name, weight=m.weight, unavailable=unavailable)
        )
    return members, devices


@transaction.atomic
def rotator_link_open(*, link: RotatorLink, rng: random.Random | None = None):
    """A visitor opened the link: count the click and pick the number to send them to.

    Returns the Device, or None when no number of the link is usable (all inactive or
    disconnected). Locks the link's pool row (see `rotation_state_lock`); the click counter is a
    single UPDATE … SET clicks = clicks + 1. Uses a turn: call it only for real visitors, not for
    HEAD requests or link-preview bots. A number that is unavailable at the end of a cycle
    forfeits its turn: visitors are never owed to a number.
    """
    state = rotation_state_lock(pool=rotator_pool(link.pk))
    members, devices = _rotator_members(link)
    pick = rotation_pick(
        state=state,
        mode=link.mode,
        members=members,
        trigger=AssignmentLog.Trigger.ROTATOR,
        skipped_turn=FORFEIT,
        rng=rng,
        rotator_link=link,
    )
    RotatorLink.objects.filter(pk=link.pk).update(clicks=F("clicks") + 1)
    return devices.get(pick.member_id)
