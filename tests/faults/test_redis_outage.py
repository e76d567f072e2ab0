"""Redis killed (kill -9) and started again under a real Sapa: Uvicorn, a Celery worker running
beat, a local Fonnte-speaking gateway, and a redis-server of the test's own.

While Redis is away the product answers truthfully: a reply is stored and says it will be sent
when the system recovers (never a 500 that makes the agent send it again); a webhook is stored
and answered 200; sign-in is refused with a clear page; a new socket is told to try again later.
When Redis is back (empty: the broker lost every task message) the sweeps send each queued
reply exactly once. Each test counts what reached the gateway or the database: 0 lost, 0 twice.
(docs/RELIABILITY.md "Redis and database outages")
"""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
import redis
import websockets
from websockets.exceptions import ConnectionClosed

from agents.services import agent_create
from chats.models import Conversation, Message
from tests.factories import DeviceFactory, DivisionFactory
from tests.faults.support import (
    AgentBrowser,
    Counts,
    admin_sign_in,
    customer_message,
    post_webhook,
)
from tests.fonnte import FIXTURE_DEVICE_NUMBER
from tests.gateway_server import FonnteGateway, gateway_fixture  # noqa: F401
from tests.redis_process import redis_process
from tests.servers import uvicorn_server
from tests.workers import WorkerProcess, database_url_of_tests, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "sapa_test-token-outage"
RECOVERING = "will be sent when the system recovers"


def sapa_env(redis_url: str, gateway_url: str = "http://127.0.0.1:9") -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": database_url_of_tests(),
        "REDIS_URL": redis_url,
        "FONNTE_API_URL": gateway_url,
        "LOG_LEVEL": "WARNING",
        # A small pool: several processes share the machine's PostgreSQL.
        "DATABASE_POOL_MAX": "4",
    }


@pytest.fixture
def agent():
    division = DivisionFactory(name="Sales", online_only=False)
    device = DeviceFactory(
        number=FIXTURE_DEVICE_NUMBER, division=division, gateway_token="device-token-123"
    )
    return agent_create(name="Ani", device=device, division=division, token=TOKEN).agent


def pending_sends(redis_url: str) -> int:
    """Send tasks waiting in the broker or running (unacknowledged)."""
    client = redis.Redis.from_url(redis_url)
    try:
        raw = client.lrange("celery", 0, -1) + client.hvals("unacked")
    except redis.RedisError:
        return 1
    finally:
        client.close()
    count = 0
    for item in raw:
        envelope = json.loads(item)
        if isinstance(envelope, list):  # unacked: [message, exchange, routing key]
            envelope = envelope[0]
        if envelope["headers"]["task"] == "chats.send_message":
            count += 1
            json.loads(base64.b64decode(envelope["body"]))
    return count


def test_redis_killed_during_replies_and_webhooks_loses_nothing_and_sends_nothing_twice(
    agent, gateway: FonnteGateway
):
    with redis_process() as broker:
        env = sapa_env(broker.url, gateway.url)
        worker = WorkerProcess(
            {
                **env,
                "SEND_RATE_PER_DEVICE": "0",
                # The sweep runs every second and re-enqueues a reply queued for over a second:
                # it also races the normal sends, which must not send anything twice.
                "SEND_SWEEP_INTERVAL": "1",
                "SEND_QUEUED_STUCK_AFTER": "1",
            },
            beat=True,
        )
        try:
            with uvicorn_server(env) as (base, log):
                worker.wait_ready()
                browser = AgentBrowser(base)
                webhooks = [customer_message(n, attachment=n % 3 == 2) for n in range(9)]
                replies = [f"balasan {n}" for n in range(12)]

                # Redis up: a customer writes, the agent signs in and answers.
                assert post_webhook(base, agent.device, webhooks[0]).status_code == 200
                conversation = Conversation.objects.get(contact__device=agent.device)
                assert conversation.agent_id == agent.pk
                assert browser.sign_in(agent.device.number, TOKEN).status_code == 302
                for text in replies[:4]:
                    assert browser.reply(conversation.pk, text).status_code == 200

                # Redis dies. Replies and webhooks keep coming.
                broker.kill()
                during = []
                for text in replies[4:]:
                    response = browser.reply(conversation.pk, text)
                    during.append(response.status_code)
                    assert response.status_code == 200, log.read_text()
                    assert RECOVERING in response.text
                hooks_during = [
                    post_webhook(base, agent.device, body).status_code for body in webhooks[1:]
                ]
                assert hooks_during == [200] * len(webhooks[1:]), log.read_text()
                waiting = Message.objects.filter(
                    conversation=conversation, direction=Message.Direction.OUT
                ).filter(status=Message.Status.QUEUED)
                assert waiting.count() >= len(replies[4:])

                # Redis comes back empty; beat's sweep re-enqueues what is still queued.
                broker.start()
                try:
                    wait_until(
                        lambda: (
                            Message.objects.filter(
                                direction=Message.Direction.OUT, status=Message.Status.SENT
                            ).count()
                            >= len(replies)
                        ),
                        timeout=180,
                        what="every reply to be sent after Redis came back",
                    )
                except AssertionError as exc:
                    states = list(
                        Message.objects.filter(direction=Message.Direction.OUT).values_list(
                            "text", "status", "wait_reason", "next_attempt_at"
                        )
                    )
                    raise AssertionError(f"{exc}\n{states}\n{worker.log()[-6000:]}") from exc
                # Nothing more is on its way: later arrivals would be duplicates.
                wait_until(lambda: pending_sends(broker.url) == 0, what="no send task left")
                browser.close()
        finally:
            worker.stop()

    sent = Counts.of(replies, [request.json.get("message") for request in gateway.requests])
    stored = Counts.of(
        [body["message"] for body in webhooks],
        list(Message.objects.filter(direction=Message.Direction.IN).values_list("text", flat=True)),
    )
    print(f"\nreplies: {sent}\nwebhooks: {stored}")
    assert (sent.lost, sent.twice, sent.once) == (0, 0, len(replies))
    assert (stored.lost, stored.twice, stored.once) == (0, 0, len(webhooks))
    assert not Message.objects.filter(
        direction=Message.Direction.OUT, status=Message.Status.QUEUED
    ).exists()
    # The recovered sends cleared the "waiting" reason.
    assert not Message.objects.exclude(wait_reason="").exists()


async def _socket_close_code(base: str, cookie: str) -> int | None:
    """Open /ws/agent/ and read until it closes; the close code (None if the handshake failed)."""
    url = base.replace("http://", "ws://") + "/ws/agent/"
    try:
        async with websockets.connect(
            url, additional_headers={"Cookie": cookie, "Origin": base}
        ) as socket:
            try:
                await asyncio.wait_for(socket.recv(), timeout=30)
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
            return None
    except websockets.InvalidStatus as refused:
        return -refused.response.status_code


def test_redis_killed_refuses_sign_in_clearly_and_sockets_come_back(agent):
    number = agent.device.number
    with redis_process() as broker, uvicorn_server(sapa_env(broker.url)) as (base, log):
        signed_in = AgentBrowser(base)
        assert signed_in.sign_in(number, TOKEN).status_code == 302
        cookie = signed_in.session_cookie
        ws_url = base.replace("http://", "ws://") + "/ws/agent/"
        # The page's own origin, port included, as a browser sends it (docs/SECURITY.md).
        headers = {"Cookie": cookie, "Origin": base}

        async def outage() -> dict:
            open_socket = await websockets.connect(ws_url, additional_headers=headers)
            await asyncio.sleep(0.5)  # let connect() finish joining its groups
            broker.kill()
            seen = {}
            fresh = AgentBrowser(base)
            response = await asyncio.to_thread(fresh.sign_in, number, TOKEN)
            has_session = "sessionid" in fresh.client.cookies
            seen["sign_in"] = (response.status_code, response.text, has_session)
            admin = await asyncio.to_thread(admin_sign_in, base)
            seen["admin_sign_in"] = (admin.status_code, admin.text)
            seen["new_socket"] = await _socket_close_code(base, cookie)
            await asyncio.to_thread(broker.start)
            # The socket that stayed open is told to reconnect and resynchronize.
            try:
                await asyncio.wait_for(open_socket.recv(), timeout=60)
                seen["open_socket"] = None
            except ConnectionClosed as closed:
                seen["open_socket"] = closed.rcvd.code if closed.rcvd else None
            return seen

        seen = asyncio.run(outage())
        status, text, has_session = seen["sign_in"]
        assert status == 503, log.read_text()
        assert "Sign-in is paused" in text
        assert not has_session
        assert seen["admin_sign_in"][0] == 503
        assert "Sign-in is paused" in seen["admin_sign_in"][1]
        assert seen["new_socket"] == 1013, log.read_text()
        assert seen["open_socket"] == 1012

        # Redis is back: sign-in works, and a new socket receives a customer's message live.
        assert AgentBrowser(base).sign_in(number, TOKEN).status_code == 302

        async def live_push() -> tuple[int, str]:
            async with websockets.connect(ws_url, additional_headers=headers) as socket:
                await asyncio.sleep(0.5)  # let connect() finish joining its groups
                response = await asyncio.to_thread(
                    post_webhook, base, agent.device, customer_message(1)
                )
                frame = await asyncio.wait_for(socket.recv(), timeout=30)
                return response.json()["id"], frame

        message_id, frame = asyncio.run(live_push())
        assert f'id="message-{message_id}"' in frame


def test_a_send_that_finds_redis_gone_waits_queued_and_is_sent_once_after(
    gateway: FonnteGateway, settings, monkeypatch
):
    """The send task runs, but Redis (which holds the per-device pace) died a moment ago: the
    reply stays queued and says why, instead of failing as "internal error"; once Redis is back
    it is sent, once."""
    from chats.services.outbound import (
        WAIT_SYSTEM_RECOVERING,
        Outcome,
        message_send_attempt,
    )
    from devices_app import pacing
    from tests.workers import assigned_conversation

    conversation = assigned_conversation()
    reply = Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.OUT,
        sender_agent=conversation.agent,
        text="Sebentar ya",
        status=Message.Status.QUEUED,
    )
    settings.SEND_RATE_PER_DEVICE = 1
    with redis_process() as own:
        settings.REDIS_URL = own.url
        monkeypatch.setattr(pacing, "_redis", pacing._Redis())  # a client for this Redis
        own.kill()

        result = message_send_attempt(message_id=reply.pk)
        reply.refresh_from_db()
        assert result.outcome is Outcome.WAITING_SYSTEM
        assert (reply.status, reply.wait_reason) == (Message.Status.QUEUED, WAIT_SYSTEM_RECOVERING)
        assert gateway.requests == []

        own.start()
        assert message_send_attempt(message_id=reply.pk).outcome is Outcome.SENT
        assert message_send_attempt(message_id=reply.pk).outcome is Outcome.SKIPPED
    reply.refresh_from_db()
    assert (reply.status, reply.wait_reason) == (Message.Status.SENT, "")
    assert len(gateway.requests) == 1
