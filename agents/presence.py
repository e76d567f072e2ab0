"""Agent presence: online / away / offline, kept in Redis (docs/ARCHITECTURE.md "Realtime").

An agent is **away** while their away switch is on (it overrides everything else), else
**online** while any of their connections lives, else **offline**.

Every open agent socket is a *connection* with its own key, `sapa:presence:agent:<id>:<conn>`,
that lives `PRESENCE_TTL_SECONDS` and is refreshed by the socket's heartbeat every
`PRESENCE_HEARTBEAT_SECONDS`. An agent is connected while any of their keys lives, so a web
process that dies without closing its sockets cannot leave agents online: its keys simply
expire. A clean disconnect does not delete the key but shortens it to `PRESENCE_GRACE_SECONDS`,
so a page reload or a brief network drop does not flip the agent offline.

A set per agent (`sapa:presence:conns:<id>`) indexes the connection ids, so the state of a whole
division is two pipelined round trips instead of a SCAN over the keyspace.

The manual away switch is a Redis set of agent ids. It lives beside the rest of presence (one
place to read, no migration of the agents table) and is as durable as that Redis: production
Redis is also the Celery broker and runs with persistence; if it is ever lost, the switch shows
"available" again in the header, where the agent sees it.

Every change of state is published as `presence.changed` to the `staff` group and to the
agent's own group. Connects and the away switch publish at once; going offline is noticed by
`presence_sweep` (a beat task), since an expiring key tells nobody.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

import redis
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from realtime import publisher as realtime

logger = logging.getLogger(__name__)

PREFIX = "sapa:presence"
AWAY_KEY = f"{PREFIX}:away"
# Last state published per agent; absent means offline.
LAST_KEY = f"{PREFIX}:last"


class PresenceState(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class PresenceUnavailable(Exception):
    """Redis could not be reached: presence is unknown."""


P = ParamSpec("P")
R = TypeVar("R")


def _redis_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Callers handle one exception: PresenceUnavailable, whatever Redis raised."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except redis.RedisError as exc:
            raise PresenceUnavailable(str(exc)) from exc

    return wrapper


def _conn_key(agent_id: int, conn: str) -> str:
    return f"{PREFIX}:agent:{agent_id}:{conn}"


def _index_key(agent_id: int) -> str:
    return f"{PREFIX}:conns:{agent_id}"


_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def _redis() -> redis.Redis:
    # redis-py's pool is thread-safe and resets itself after a fork; one client per URL.
    url = settings.REDIS_URL
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(
                url, socket_connect_timeout=2, socket_timeout=2, decode_responses=True
            )
            _clients[url] = client
        return client


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


# Compare-and-set of the last published state, so a connect and a sweep that see the same
# change publish it once. Absent = offline, which keeps the hash as small as the online staff.
_SET_LAST = """
local old = redis.call('HGET', KEYS[1], ARGV[1]) or 'offline'
if old == ARGV[2] then return 0 end
if ARGV[2] == 'offline' then redis.call('HDEL', KEYS[1], ARGV[1])
else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
"""


def new_connection_id() -> str:
    return uuid.uuid4().hex


def presence_states(*, agent_ids: Iterable[int]) -> dict[int, str]:
    """The presence of each agent. Raises PresenceUnavailable when Redis cannot answer."""
    ids = list(dict.fromkeys(int(i) for i in agent_ids))
    if not ids:
        return {}
    client = _redis()
    try:
        pipe = client.pipeline(transaction=False)
        for agent_id in ids:
            pipe.smembers(_index_key(agent_id))
        pipe.smembers(AWAY_KEY)
        *conn_sets, away = pipe.execute()
        pairs = [
            (agent_id, conn)
            for agent_id, conns in zip(ids, conn_sets, strict=True)
            for conn in sorted(conns)
        ]
        pipe = client.pipeline(transaction=False)
        for agent_id, conn in pairs:
            pipe.exists(_conn_key(agent_id, conn))
        alive = pipe.execute() if pairs else []
    except redis.RedisError as exc:
        raise PresenceUnavailable(str(exc)) from exc
    connected = {agent_id for (agent_id, _conn), live in zip(pairs, alive, strict=True) if live}
    away_ids = {int(x) for x in away}
    states = {}
    for agent_id in ids:
        # The away switch overrides connections: away is away, with or without a socket.
        if agent_id in away_ids:
            states[agent_id] = PresenceState.AWAY.value
        elif agent_id not in connected:
            states[agent_id] = PresenceState.OFFLINE.value
        else:
            states[agent_id] = PresenceState.ONLINE.value
    return states


def presence_state(*, agent_id: int) -> str:
    return presence_states(agent_ids=[agent_id])[agent_id]


def presence_is_away(*, agent_id: int) -> bool:
    """The away switch, whether or not the agent is connected."""
    try:
        return bool(_redis().sismember(AWAY_KEY, str(agent_id)))
    except redis.RedisError as exc:
        raise PresenceUnavailable(str(exc)) from exc


def _publish_if_changed(agent_id: int, state: str) -> bool:
    changed = bool(_redis().eval(_SET_LAST, 1, LAST_KEY, str(agent_id), state))
    if changed:
        realtime.publish_presence_changed(agent_id=agent_id, state=state)
    return changed


def _refresh(agent_id: int, conn: str) -> bool:
    """Refresh one connection's key for another TTL; True if the key had to be created."""
    ttl = _ms(settings.PRESENCE_TTL_SECONDS)
    pipe = _redis().pipeline(transaction=True)
    pipe.set(_conn_key(agent_id, conn), "1", px=ttl, get=True)
    pipe.sadd(_index_key(agent_id), conn)
    # The index outlives its longest connection key (a disconnect may extend one by the grace).
    pipe.pexpire(_index_key(agent_id), ttl + _ms(settings.PRESENCE_GRACE_SECONDS))
    previous, *_ = pipe.execute()
    return previous is None


@_redis_errors
def presence_heartbeat(*, agent_id: int, conn: str) -> None:
    """Refresh one connection's key for another TTL. Idempotent.

    If the key had expired meanwhile (a stalled event loop, a Redis restart) the agent may have
    been published offline: re-check and publish the state again.
    """
    if _refresh(agent_id, conn):
        _publish_if_changed(agent_id, presence_state(agent_id=agent_id))


@_redis_errors
def presence_connect(*, agent_id: int, conn: str) -> str:
    """A socket opened: start its connection key; publish `presence.changed` if that changed
    the agent's state. Returns the agent's state. Sweeps dead connection ids from the index."""
    _refresh(agent_id, conn)
    client = _redis()
    conns = list(client.smembers(_index_key(agent_id)))
    pipe = client.pipeline(transaction=False)
    for other in conns:
        pipe.exists(_conn_key(agent_id, other))
    dead = [c for c, live in zip(conns, pipe.execute(), strict=True) if not live]
    if dead:
        client.srem(_index_key(agent_id), *dead)
    state = presence_state(agent_id=agent_id)
    _publish_if_changed(agent_id, state)
    return state


@_redis_errors
def presence_disconnect(*, agent_id: int, conn: str, grace: bool = True) -> None:
    """A socket closed: its key lives on for the grace period, then expires.

    Going offline is published by `presence_sweep` once the grace period has passed without a
    reconnect, never here: a reload must not show the agent offline to the supervisors.
    `grace=False` (the agent's access ended) drops the key at once and publishes the change.
    """
    seconds = settings.PRESENCE_GRACE_SECONDS if grace else 0
    key = _conn_key(agent_id, conn)
    if seconds <= 0:
        _redis().delete(key)
        if not grace:
            _publish_if_changed(agent_id, presence_state(agent_id=agent_id))
    else:
        _redis().pexpire(key, _ms(seconds))


@_redis_errors
def presence_forget(*, agent_id: int) -> None:
    """The agent's access ended: every connection of theirs ends now, without a grace period,
    and the change is published. Their sockets are closing too (agents.services.agent_access_end);
    the away switch is left as it is. Idempotent."""
    client = _redis()
    conns = client.smembers(_index_key(agent_id))
    pipe = client.pipeline(transaction=True)
    for conn in conns:
        pipe.delete(_conn_key(agent_id, conn))
    pipe.delete(_index_key(agent_id))
    pipe.execute()
    _publish_if_changed(agent_id, presence_state(agent_id=agent_id))


@_redis_errors
def presence_set_away(*, agent_id: int, away: bool) -> str:
    """Turn the agent's away switch on or off; publish `presence.changed` if the state changed.

    Idempotent. Returns the agent's state. Away agents never receive new chats; the caller
    drains the division's queue when an agent comes back (chats.services.assignment.queue_drain).
    """
    client = _redis()
    if away:
        client.sadd(AWAY_KEY, str(agent_id))
    else:
        client.srem(AWAY_KEY, str(agent_id))
    state = presence_state(agent_id=agent_id)
    _publish_if_changed(agent_id, state)
    return state


@_redis_errors
def presence_sweep() -> dict[int, str]:
    """Publish the changes nobody announced: agents whose connections all expired.

    Compares every agent last published as online or away with their state now. Returns the
    changes it published ({agent id: new state}). Safe to run concurrently and repeatedly.
    """
    last = _redis().hgetall(LAST_KEY)
    if not last:
        return {}
    now = presence_states(agent_ids=[int(k) for k in last])
    changes = {}
    for agent_id, state in now.items():
        if last.get(str(agent_id)) != state and _publish_if_changed(agent_id, state):
            changes[agent_id] = state
    return changes
