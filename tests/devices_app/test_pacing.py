"""Per-device pacing decisions, taken by the real Lua script in the suite's Redis.

Asserted on the bucket's decisions — booked or not, and the moment of each slot on the bucket's
own (Redis) clock — never on wall-clock time. Intervals are long (seconds) so that a slow
machine pausing between two calls cannot change a decision.
"""

from __future__ import annotations

import pytest

from devices_app.pacing import device_send_slot


def slots(n: int, **kwargs):
    return [device_send_slot(**kwargs) for _ in range(n)]


def test_n_sends_at_once_are_spread_one_interval_apart():
    decisions = slots(6, device_id=1, rate=0.5, burst=1, max_wait=60)  # one every 2 s

    assert all(d.booked for d in decisions)
    assert decisions[0].wait == 0.0
    assert all(d.wait > 0 for d in decisions[1:])
    gaps = [b.at - a.at for a, b in zip(decisions, decisions[1:], strict=False)]
    assert gaps == pytest.approx([2.0] * 5, abs=1e-3)
    # The waits grow with the queue: each caller is told to come back at its own slot.
    assert [d.wait for d in decisions] == sorted(d.wait for d in decisions)


def test_a_burst_goes_at_once_then_the_rate_applies():
    decisions = slots(5, device_id=1, rate=0.5, burst=3, max_wait=60)

    assert [d.wait for d in decisions[:3]] == [0.0, 0.0, 0.0]
    assert all(d.booked and d.wait > 0 for d in decisions[3:])
    assert decisions[3].at - decisions[0].at == pytest.approx(2.0, abs=1e-3)
    assert decisions[4].at - decisions[3].at == pytest.approx(2.0, abs=1e-3)


def test_devices_have_separate_buckets():
    first = slots(2, device_id=1, rate=0.5, burst=1, max_wait=60)
    other = device_send_slot(device_id=2, rate=0.5, burst=1, max_wait=60)
    assert first[0].wait == 0.0 and first[1].wait > 0
    assert other.wait == 0.0


def test_a_wait_beyond_the_cap_books_nothing():
    booked = slots(2, device_id=3, rate=0.5, burst=1, max_wait=3)  # slots at t0 and t0 + 2
    refused = slots(3, device_id=3, rate=0.5, burst=1, max_wait=3)  # t0 + 4 is beyond 3 s

    assert [d.booked for d in booked] == [True, True]
    assert [d.booked for d in refused] == [False, False, False]
    # Nothing was booked, so every refused caller is pointed at the same free slot.
    for decision in refused:
        assert decision.at - booked[1].at == pytest.approx(2.0, abs=1e-3)
        assert decision.wait > 3


@pytest.mark.parametrize("rate", [0, -1])
def test_rate_zero_turns_pacing_off(rate):
    assert all(d.send_now for d in slots(50, device_id=4, rate=rate))


def test_defaults_come_from_settings(settings):
    settings.SEND_RATE_PER_DEVICE = 0.5
    settings.SEND_BURST_PER_DEVICE = 2
    settings.SEND_PACING_MAX_WAIT = 10
    decisions = slots(4, device_id=5)

    assert [d.wait for d in decisions[:2]] == [0.0, 0.0]
    assert decisions[2].at - decisions[0].at == pytest.approx(2.0, abs=1e-3)
    assert decisions[3].at - decisions[2].at == pytest.approx(2.0, abs=1e-3)
