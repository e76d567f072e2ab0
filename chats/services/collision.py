"""The collision guard: who else has a conversation open, and who is typing in it.

When two people may see the same chat (colleagues looking at a queued chat, the one who had
it and the one who has it now), each page tells the server over the agent socket that it
shows the chat ("viewing", every VIEWING_REFRESH_SECONDS) and that its agent is typing
("typing", at most every TYPING_REFRESH_SECONDS while keys are pressed). The state lives in
Redis with short lifetimes, never in the database: a page that vanishes simply stops
refreshing it. Each report is pushed to the people who may see the conversation (its agent,
or its division's queue: the same groups as its other pushes); their sockets render "Budi is
viewing" / "Budi is typing…" for the chat they show.

A reply stored while someone else typed in the chat is not refused but marked
(`Message.collided_with`), so both see that two answers may cross.

Everything here tolerates Redis being away: the guard then says nothing, and replies are
stored unmarked.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Literal

import redis
from django.conf import settings

from realtime import publisher as realtime

from ..models import Conversation

logger = logging.getLogger(__name__)

PREFIX = "sapa:collision"
# The page refreshes "viewing" this often; an entry lives a little over two refreshes.
VIEWING_REFRESH_SECONDS = 15
VIEWING_SECONDS = 40
# The page reports typing at most this often while keys are pressed; "is typing" lasts a
# little over two reports after the last key.
TYPING_REFRESH_SECONDS = 2
TYPING_SECONDS = 6

Kind = Literal["viewing", "typing", "left"]
KINDS: tuple[Kind, ...] = ("viewing", "typing", "left")

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def _redis() -> redis.Redis:
    url = settings.REDIS_URL
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(
                url, socket_connect_timeout=1, socket_timeout=1, decode_responses=True
            )
            _clients[url] = client
        return client


def _key(conversation_id: int, what: str) -> str:
    return f"{PREFIX}:{conversation_id}:{what}"


def collision_report(
    *, conversation: Conversation, agent_id: int, agent_name: str, kind: Kind
) -> None:
    """Record that this agent views, types in, or left the conversation, and push it to
    whoever may see the conversation. The caller has checked that the agent may see it.
    Never raises: a lost report only means a colleague is not told."""
    now = time.time()
    entry = json.dumps({"name": agent_name, "at": now})
    field = str(agent_id)
    viewing, typing = _key(conversation.pk, "viewing"), _key(conversation.pk, "typing")
    try:
        pipe = _redis().pipeline(transaction=False)
        if kind == "left":
            pipe.hdel(viewing, field)
            pipe.hdel(typing, field)
        else:
            pipe.hset(viewing, field, entry)
            pipe.expire(viewing, VIEWING_SECONDS)
            if kind == "typing":
                pipe.hset(typing, field, entry)
                pipe.expire(typing, TYPING_SECONDS)
        pipe.execute()
    except redis.RedisError:
        logger.warning("collision report lost (Redis)", exc_info=True)
        return
    realtime.conversation_collision_publish(
        conversation_id=conversation.pk,
        agent_id=agent_id,
        group_agent_id=conversation.agent_id,
        division_id=conversation.division_id,
    )


@dataclass(frozen=True)
class Colleague:
    name: str
    # How long the page may show each state without a new report (0: not typing).
    typing_seconds: int
    viewing_seconds: int

    @property
    def typing(self) -> bool:
        return self.typing_seconds > 0


def _fresh(raw: dict[str, str], lifetime: int, exclude_agent_id: int, now: float) -> dict:
    """{agent id: (name, seconds left)} of the entries younger than `lifetime`."""
    fresh = {}
    for field, value in raw.items():
        try:
            agent_id, entry = int(field), json.loads(value)
            left = lifetime - (now - float(entry["at"]))
        except (ValueError, TypeError, KeyError):
            continue
        if agent_id != exclude_agent_id and left > 0:
            fresh[agent_id] = (str(entry.get("name", "")), max(1, round(left)))
    return fresh


def collision_colleagues(*, conversation_id: int, exclude_agent_id: int) -> list[Colleague]:
    """The others who have the conversation open now, typists first, then by name.
    Empty when Redis cannot say."""
    now = time.time()
    try:
        pipe = _redis().pipeline(transaction=False)
        pipe.hgetall(_key(conversation_id, "viewing"))
        pipe.hgetall(_key(conversation_id, "typing"))
        viewing_raw, typing_raw = pipe.execute()
    except redis.RedisError:
        logger.warning("collision state unavailable (Redis)", exc_info=True)
        return []
    viewing = _fresh(viewing_raw, VIEWING_SECONDS, exclude_agent_id, now)
    typing = _fresh(typing_raw, TYPING_SECONDS, exclude_agent_id, now)
    people = []
    for agent_id in {**viewing, **typing}:
        name, viewing_left = viewing.get(agent_id) or typing[agent_id]
        typing_left = typing[agent_id][1] if agent_id in typing else 0
        people.append(
            Colleague(
                name=name,
                typing_seconds=typing_left,
                viewing_seconds=max(viewing_left, typing_left),
            )
        )
    return sorted(people, key=lambda p: (not p.typing, p.name.lower()))


def collision_typists(*, conversation_id: int, exclude_agent_id: int) -> list[str]:
    """Names of the others typing in the conversation now (for marking a reply)."""
    return [
        p.name
        for p in collision_colleagues(
            conversation_id=conversation_id, exclude_agent_id=exclude_agent_id
        )
        if p.typing
    ]
