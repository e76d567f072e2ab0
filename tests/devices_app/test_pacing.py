"""Per-device pacing decisions, taken by the real Lua script in the suite's Redis.

Asserted on the bucket's decisions (booked or not, how long to wait), never on wall-clock time.
Redis's clock moves a little between calls, so waits are compared with a small tolerance.
"""

from __future__ import annotations

import pytest

from devices_app.pacing import device_send_slot

TOLERANCE = 0.25  # seconds of Redis clock that may pass between two calls on a slow machine


def waits(n: int, **kwargs) -> list[float]:
    decisions = [device_send_slot(**kwargs) for _ in range(n)]
    assert all(d.booked for d in decisions)
    return [d.wait for d in decisions]


def test_n_sends_at_once_are_spread_one_interval_apart():
    rate = 2.0  # one every 0.5 s
    got = waits(6, device_id=1, rate=rate, burst=1, max_wait=60)
    expected = [k / rate for k in range(6)]
    for wait, want in zip(got, expected, strict=True):
        assert want - TOLERANCE <= wait <= want


def test_a_burst_goes_at_once_then_the_rate_applies():
    got = waits(5, device_id=1, rate=1.0, burst=3, max_wait=60)
    assert got[:3] == [0.0, 0.0, 0.0]
    assert 1.0 - TOLERANCE <= got[3] <= 1.0
    assert 2.0 - TOLERANCE <= got[4] <= 2.0


def test_devices_have_separate_buckets():
    first = waits(2, device_id=1, rate=1.0, burst=1, max_wait=60)
    other = waits(1, device_id=2, rate=1.0, burst=1, max_wait=60)
    assert first[0] == 0.0 and first[1] > 0.5
    assert other == [0.0]


def test_a_refused_call_does_not_book_a_slot():
    booked = [device_send_slot(device_id=3, rate=1.0, burst=1, max_wait=1.5) for _ in range(2)]
    assert [d.booked for d in booked] == [True, True]
    refused = [device_send_slot(device_id=3, rate=1.0, burst=1, max_wait=1.5) for _ in range(3)]
    assert [d.booked for d in refused] == [False, False, False]
    # Nothing was booked, so every refused caller hears the same ~2 s wait.
    for decision in refused:
        assert 2.0 - TOLERANCE <= decision.wait <= 2.0


@pytest.mark.parametrize("rate", [0, -1])
def test_rate_zero_turns_pacing_off(rate):
    assert all(device_send_slot(device_id=4, rate=rate).send_now for _ in range(50))


def test_defaults_come_from_settings(settings):
    settings.SEND_RATE_PER_DEVICE = 4.0
    settings.SEND_BURST_PER_DEVICE = 2
    settings.SEND_PACING_MAX_WAIT = 10
    got = [device_send_slot(device_id=5).wait for _ in range(4)]
    assert got[:2] == [0.0, 0.0]
    assert 0.25 - TOLERANCE <= got[2] <= 0.25
    assert 0.5 - TOLERANCE <= got[3] <= 0.5
