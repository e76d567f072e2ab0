"""The real server path: Uvicorn (HTTP + WebSocket) in a subprocess against the test database,
a browser-like socket with the login session, and a webhook POST as Fonnte sends it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import websockets
from django.conf import settings
from django.db import connection

from chats.models import Message
from tests.fonnte import fixture, hook_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] or ""
    if db["PASSWORD"]:
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def server():
    from tests.chats.test_realtime_resilience import with_redis

    port = with_redis.free_port()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="tests-only-not-secret",
        DJANGO_DEBUG="false",
        DATABASE_URL=_database_url(),
        REDIS_URL=settings.REDIS_URL,
        AXES_ENABLED="false",
        LOG_LEVEL="WARNING",
    )
    uvicorn = Path(sys.executable).parent / "uvicorn"
    proc = subprocess.Popen(
        [
            str(uvicorn),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):  # bounded: 150 × 0.1 s
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        # Stopped before the test database is torn down (PostgreSQL refuses to drop it while
        # connections are open).
        proc.terminate()
        proc.wait(timeout=15)


def test_webhook_over_http_reaches_the_agents_real_socket(server, fonnte_device, sales_agents):
    ani, budi = sales_agents
    from tests.chats.test_live_inbound import login_cookie

    cookies = {a.agent.pk: login_cookie("6287700000001", a.token) for a in sales_agents}

    async def scenario():
        ws_base = server.replace("http://", "ws://")
        sockets = {
            pk: await websockets.connect(
                f"{ws_base}/ws/agent/",
                additional_headers={"Cookie": cookie.decode(), "Origin": server},
            )
            for pk, cookie in cookies.items()
        }
        async with httpx.AsyncClient() as client:
            response = await client.post(
                server + hook_url(fonnte_device, "incoming"),
                content=json.dumps(fixture("incoming_private_captured")),
            )
        assert response.status_code == 200
        message_id = response.json()["id"]
        frames = {}
        for pk, ws in sockets.items():
            try:
                frames[pk] = await asyncio.wait_for(ws.recv(), timeout=3)
            except TimeoutError:
                frames[pk] = None
            await ws.close()
        return message_id, frames

    message_id, frames = asyncio.run(scenario())
    assignee = (
        Message.objects.select_related("conversation").get(pk=message_id).conversation.agent_id
    )
    assert f'id="message-{message_id}"' in frames[assignee]
    assert [pk for pk, frame in frames.items() if frame is not None] == [assignee]
