"""The real server path: Uvicorn (HTTP + WebSocket) in a subprocess against the test database,
a browser-like socket with the login session, and a webhook POST as Fonnte sends it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import websockets
from django.conf import settings

from chats.models import Message
from tests.fonnte import fixture, hook_url
from tests.servers import uvicorn_server
from tests.workers import database_url_of_tests

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server():
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "tests-only-not-secret",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url_of_tests(),
        "REDIS_URL": settings.REDIS_URL,
        "AXES_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }
    with uvicorn_server(env) as (base, _log):
        yield base


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
