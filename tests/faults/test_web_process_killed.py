"""A web process killed while an agent is connected (docs/RELIABILITY.md, "A web process
killed"): two real Uvicorn processes on one Redis and one database, the agent's socket on A,
`kill -9` A. The agent shows offline within the presence grace (nothing on A can say goodbye:
the socket's key expires), the page reconnects to B and shows online, and webhooks that reach B,
including the gateway's retry of one whose answer A never sent, reach the agent once each."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import httpx
import pytest
import websockets
from django.conf import settings

from agents.presence import presence_state
from agents.services import agent_create
from chats.models import Message
from tests.fonnte import fixture, hook_url
from tests.servers import PROCESSES, uvicorn_server
from tests.workers import database_url_of_tests, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

TTL, HEARTBEAT, GRACE = 2.0, 0.4, 1.0


def env() -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "tests-only-not-secret",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url_of_tests(),
        "REDIS_URL": settings.REDIS_URL,
        "AXES_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "PRESENCE_TTL_SECONDS": str(TTL),
        "PRESENCE_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "PRESENCE_GRACE_SECONDS": str(GRACE),
    }


def body(n: int) -> str:
    return json.dumps(fixture("incoming_private_captured", inboxid=7000 + n, message=f"order {n}"))


async def frames_until(ws, wanted: set[str], seen: list[str]) -> None:
    """Read frames until every wanted marker was seen (bounded: a bound, not a timing check)."""
    async with asyncio.timeout(30):
        while not all(any(w in f for f in seen) for w in wanted):
            seen.append(await ws.recv())


def test_killed_process_agent_goes_offline_and_reconnects_to_the_other(fonnte_device):
    person = agent_create(
        name="Ani", device=fonnte_device, division=fonnte_device.division, token="sapa_t-ani"
    )
    agent = person.agent
    from tests.chats.test_live_inbound import login_cookie

    cookie = login_cookie(fonnte_device.number, person.token).decode()
    with uvicorn_server(env()) as (a, _), uvicorn_server(env()) as (b, log_b):
        url = hook_url(fonnte_device, "incoming")
        answered: dict[int, tuple[int, int]] = {}  # webhook n -> (status, message id)
        retried: dict[int, tuple[int, int]] = {}
        frames: list[str] = []

        async def send(client, target: str, n: int) -> tuple[int, int]:
            response = await client.post(target, content=body(n))
            return response.status_code, response.json().get("id")

        def marker(n: int) -> str:
            return f'id="message-{answered[n][1]}"'

        async def scenario() -> None:
            headers = {"Cookie": cookie}
            ws = await websockets.connect(
                a.replace("http", "ws", 1) + "/ws/agent/",
                additional_headers={**headers, "Origin": a},
            )
            async with httpx.AsyncClient(timeout=10) as client:
                for n in (1, 2):  # before the kill, through A
                    answered[n] = await send(client, a + url, n)
                await frames_until(ws, {marker(1), marker(2)}, frames)
                assert await asyncio.to_thread(
                    wait_until, lambda: presence_state(agent_id=agent.pk) == "online"
                )

                os.kill(PROCESSES[a].pid, signal.SIGKILL)
                # The gateway retries on B what A may not have answered (3 was never sent to
                # A; 2 was answered there): then new webhooks arrive on B, before the page is
                # back.
                for n in (2, 3):
                    retried[n] = await send(client, b + url, n)
                assert await asyncio.to_thread(
                    wait_until,
                    lambda: presence_state(agent_id=agent.pk) == "offline",
                    timeout=TTL + GRACE + 30,
                    what="offline after the kill",
                )
                with pytest.raises(websockets.ConnectionClosed):
                    async with asyncio.timeout(30):
                        while True:
                            frames.append(await ws.recv())

                # The page reconnects to the surviving process.
                ws = await websockets.connect(
                    b.replace("http", "ws", 1) + "/ws/agent/",
                    additional_headers={**headers, "Origin": b},
                )
                assert await asyncio.to_thread(
                    wait_until, lambda: presence_state(agent_id=agent.pk) == "online"
                )
                for n in (4, 5):
                    answered[n] = await send(client, b + url, n)
                await frames_until(ws, {marker(4), marker(5)}, frames)
                await ws.close()

        asyncio.run(scenario())
        assert "Traceback" not in log_b.read_text(errors="replace")

    # Every webhook answered 200 with its message; the retry of 2 names the same message.
    assert {n: status for n, (status, _) in {**answered, **retried}.items()} == dict.fromkeys(
        range(1, 6), 200
    )
    assert retried[2][1] == answered[2][1]
    answered[3] = retried[3]
    stored = list(
        Message.objects.filter(direction="in").order_by("pk").values_list("text", flat=True)
    )
    sent = [f"order {n}" for n in range(1, 6)]
    lost = [t for t in sent if t not in stored]
    duplicated = sorted(t for t in set(stored) if stored.count(t) > 1)
    assert (len(stored), lost, duplicated) == (5, [], [])
    # Pushed live once each; 3 arrived while the page was away, which reads it when it
    # resynchronizes on connect.
    pushed = {n: sum(marker(n) in f for f in frames) for n in (1, 2, 4, 5)}
    assert pushed == dict.fromkeys((1, 2, 4, 5), 1), pushed
