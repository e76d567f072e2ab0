"""Per-device send pacing: a token bucket in Redis, shared by every worker on every host.

Celery's `rate_limit` counts per worker process, not per device, and the gateways publish no
rate limit of their own (docs/ARCHITECTURE.md "Known traps"), so Sapa paces each device itself.

The bucket is kept as a "theoretical arrival time" (GCRA, the token bucket written as one
timestamp): a device may send `burst` messages at once, then one every `1 / rate` seconds. A
caller that finds no token gets a *reservation*: the slot is booked for it and it is told how
long to wait, so N sends queued at once are spread over N / rate seconds without waking up and
competing again (no thundering herd, no task re-run per refused token). Waits longer than
`max_wait` are not booked: the caller comes back after `max_wait` and asks again, so a long
backlog never books slots far in the future (and countdowns stay under the broker's visibility
timeout).

A device may also ask for a random gap between two sends (`gap_min`..`gap_max` seconds, like
Fonnte's own `delay: "2-5"`): each send is then booked at least that long after the previous
one, whatever the burst allows. The pace of each device is set on its admin page
(`device_pacing`), defaults from the environment; it is read at every send, so a change applies
to the next reply without a restart.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Protocol

import redis
from django.conf import settings

# KEYS[1] bucket key, KEYS[2] the time of the last booked send. ARGV: interval (s per token,
# 0 = no rate), burst, max_wait (s), ttl (s), gap (s after the last booked send, 0 = none).
# The clock is Redis's own (TIME), so workers with skewed clocks still share one schedule.
_ACQUIRE = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local gap = tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
-- The request may go now while the booked-ahead time stays within the burst allowance.
local wait = tat - now - (burst - 1) * interval
if wait < 0 then wait = 0 end
if gap > 0 then
  local after_last = tonumber(redis.call('GET', KEYS[2]) or '0') + gap - now
  if after_last > wait then wait = after_last end
end
if wait > max_wait then
  return {0, tostring(wait), tostring(now + wait)}
end
redis.call('SET', KEYS[1], tostring(tat + interval), 'EX', ttl)
redis.call('SET', KEYS[2], tostring(now + wait), 'EX', ttl)
return {1, tostring(wait), tostring(now + wait)}
"""


class _PacedDevice(Protocol):
    send_rate_per_minute: int | None
    send_burst: int | None
    send_gap_min_seconds: int | None
    send_gap_max_seconds: int | None


@dataclass(frozen=True)
class Pacing:
    """One device's pace. `rate` in messages per second (0: no rate limit)."""

    rate: float
    burst: int
    gap_min: float = 0.0
    gap_max: float = 0.0


def default_pacing() -> Pacing:
    """The pace of a device that sets none (SEND_RATE_PER_DEVICE, SEND_BURST_PER_DEVICE,
    SEND_GAP_MIN_SECONDS, SEND_GAP_MAX_SECONDS)."""
    return Pacing(
        rate=settings.SEND_RATE_PER_DEVICE,
        burst=settings.SEND_BURST_PER_DEVICE,
        gap_min=settings.SEND_GAP_MIN_SECONDS,
        gap_max=settings.SEND_GAP_MAX_SECONDS,
    )


def device_pacing(device: _PacedDevice) -> Pacing:
    """The device's own pace where its admin page sets one, the default elsewhere."""
    default = default_pacing()
    rate_per_minute = device.send_rate_per_minute
    return Pacing(
        rate=default.rate if rate_per_minute is None else rate_per_minute / 60,
        burst=default.burst if device.send_burst is None else device.send_burst,
        gap_min=default.gap_min
        if device.send_gap_min_seconds is None
        else device.send_gap_min_seconds,
        gap_max=default.gap_max
        if device.send_gap_max_seconds is None
        else device.send_gap_max_seconds,
    )


@dataclass(frozen=True)
class Decision:
    """`booked`: a slot is ours, to use after `wait` seconds (0 = now).
    Not booked: nothing is reserved; ask again after `wait` seconds.
    `at`: the same moment on Redis's clock (the bucket's own time line)."""

    booked: bool
    wait: float
    at: float = 0.0

    @property
    def send_now(self) -> bool:
        return self.booked and self.wait <= 0


class _Redis:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: redis.Redis | None = None
        self._script = None

    def script(self):
        with self._lock:
            if self._client is None:
                self._client = redis.Redis.from_url(
                    settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2
                )
                self._script = self._client.register_script(_ACQUIRE)
            return self._script


_redis = _Redis()


def bucket_key(device_id: int) -> str:
    return f"sapa:pace:device:{device_id}"


def last_send_key(device_id: int) -> str:
    return f"sapa:pace:device:{device_id}:last"


def device_send_slot(
    *,
    device_id: int,
    pacing: Pacing | None = None,
    rate: float | None = None,
    burst: int | None = None,
    max_wait: float | None = None,
) -> Decision:
    """Take (or book) a send slot for a device.

    `pacing`: the device's pace (`device_pacing(device)`), else the default; `rate` (messages
    per second) and `burst` override it. `max_wait` defaults to SEND_PACING_MAX_WAIT. A rate of
    0 or less without a gap turns pacing off.
    """
    pacing = pacing or default_pacing()
    rate = pacing.rate if rate is None else rate
    burst = pacing.burst if burst is None else burst
    max_wait = settings.SEND_PACING_MAX_WAIT if max_wait is None else max_wait
    gap = random.uniform(pacing.gap_min, pacing.gap_max) if pacing.gap_max > 0 else 0.0
    if rate <= 0 and gap <= 0:
        return Decision(booked=True, wait=0.0)
    interval = 1.0 / rate if rate > 0 else 0.0
    ttl = max(1, int(interval * max(burst, 1) + max(max_wait, gap)) + 60)
    booked, wait, at = _redis.script()(
        keys=[bucket_key(device_id), last_send_key(device_id)],
        args=[interval, max(burst, 1), max_wait, ttl, gap],
    )
    return Decision(booked=bool(int(booked)), wait=float(wait), at=float(at))
