"""Per-device send pacing: a token bucket in Redis, shared by every worker on every host.

Celery's `rate_limit` counts per worker process, not per device, and the gateways publish no
rate limit of their own (PERFORMANCE-NOTES.md pitfall 9), so Sapa paces each device itself.

The bucket is kept as a "theoretical arrival time" (GCRA, the token bucket written as one
timestamp): a device may send `burst` messages at once, then one every `1 / rate` seconds. A
caller that finds no token gets a *reservation*: the slot is booked for it and it is told how
long to wait, so N sends queued at once are spread over N / rate seconds without waking up and
competing again (no thundering herd, no task re-run per refused token). Waits longer than
`max_wait` are not booked: the caller comes back after `max_wait` and asks again, so a long
backlog never books slots far in the future (and countdowns stay under the broker's visibility
timeout).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import redis
from django.conf import settings

# KEYS[1] bucket key. ARGV: interval (s per token), burst, max_wait (s), ttl (s).
# The clock is Redis's own (TIME), so workers with skewed clocks still share one schedule.
_ACQUIRE = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
-- The request may go now while the booked-ahead time stays within the burst allowance.
local wait = tat - now - (burst - 1) * interval
if wait < 0 then wait = 0 end
if wait > max_wait then
  return {0, tostring(wait), tostring(now + wait)}
end
redis.call('SET', KEYS[1], tostring(tat + interval), 'EX', ttl)
return {1, tostring(wait), tostring(now + wait)}
"""


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


def device_send_slot(
    *,
    device_id: int,
    rate: float | None = None,
    burst: int | None = None,
    max_wait: float | None = None,
) -> Decision:
    """Take (or book) a send slot for a device. Rate in messages per second.

    Defaults from settings: SEND_RATE_PER_DEVICE, SEND_BURST_PER_DEVICE, SEND_PACING_MAX_WAIT.
    A rate of 0 or less turns pacing off.
    """
    rate = settings.SEND_RATE_PER_DEVICE if rate is None else rate
    burst = settings.SEND_BURST_PER_DEVICE if burst is None else burst
    max_wait = settings.SEND_PACING_MAX_WAIT if max_wait is None else max_wait
    if rate <= 0:
        return Decision(booked=True, wait=0.0)
    interval = 1.0 / rate
    ttl = max(1, int(interval * max(burst, 1) + max_wait) + 60)
    booked, wait, at = _redis.script()(
        keys=[bucket_key(device_id)], args=[interval, max(burst, 1), max_wait, ttl]
    )
    return Decision(booked=bool(int(booked)), wait=float(wait), at=float(at))
