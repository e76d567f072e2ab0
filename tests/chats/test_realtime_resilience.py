"""The realtime layer's two known traps (docs/ARCHITECTURE.md "Known traps"): publishing from
Celery, and a Redis
restart that silently drops pushes while sockets stay open."""

from __future__ import annotations

import importlib.util
import socket as sockets
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from celery.contrib.testing.worker import start_worker
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator

from chats.consumers import CLOSE_RESYNC
from chats.services.connection import device_connection_apply
from config.asgi import application
from config.celery import app as celery_app
from devices_app.gateways.events import ConnectionChange
from devices_app.models import Device
from realtime import publisher as realtime
from tests.chats.test_live_inbound import ORIGIN, login_cookie

pytestmark = pytest.mark.django_db(transaction=True)

_spec = importlib.util.spec_from_file_location(
    "with_redis", Path(__file__).resolve().parents[2] / "scripts" / "with_redis.py"
)
with_redis = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(with_redis)


@celery_app.task(name="tests.disconnect_device")
def disconnect_device(device_id: int, reason: str) -> None:
    """A task calling a service that publishes, as any real task does."""
    device_connection_apply(
        device=Device.objects.get(pk=device_id),
        event=ConnectionChange(connected=False, reason=reason),
    )


async def agent_socket(agent_with_token, number="6287700000001"):
    cookie = await sync_to_async(login_cookie)(number, agent_with_token.token)
    socket = WebsocketCommunicator(application, "/ws/agent/", headers=[ORIGIN, (b"cookie", cookie)])
    connected, _ = await socket.connect()
    assert connected
    return socket


async def test_publishing_from_a_celery_worker_reaches_the_socket(fonnte_device, sales_agents):
    socket = await agent_socket(sales_agents[0])
    # Results are off in settings; the test needs them to wait for each task.
    celery_app.conf.task_ignore_result = False
    celery_app.conf.result_backend = "cache+memory://"
    worker = start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10)
    await sync_to_async(worker.__enter__)()
    try:
        # Several publishes from the worker's thread: each reuses the publisher's one loop.
        for n in range(5):
            result = await sync_to_async(disconnect_device.delay)(fonnte_device.pk, f"reason {n}")
            await sync_to_async(result.get)(timeout=20)
            frame = await socket.receive_from(timeout=5)
            assert f"reason {n}" in frame
    finally:
        await sync_to_async(worker.__exit__)(None, None, None)
        celery_app.conf.task_ignore_result = True
        celery_app.conf.result_backend = None
    await socket.disconnect()


def _start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            with_redis.find_redis_server(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            tempfile.mkdtemp(prefix="sapa-redis-restart-"),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):  # bounded: 100 × 0.05 s
        try:
            sockets.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


async def test_redis_restart_closes_sockets_so_pages_resync(fonnte_device, sales_agents, settings):
    port = with_redis.free_port()
    redis_proc = await sync_to_async(_start_redis)(port)
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "chats.channel_layer.ResyncingPubSubChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{port}/0"], "prefix": "restart"},
        }
    }
    channel_layers.backends.clear()
    try:
        socket = await agent_socket(sales_agents[0])
        redis_proc.terminate()
        await sync_to_async(redis_proc.wait)()
        redis_proc = await sync_to_async(_start_redis)(port)
        closed = await socket.receive_output(timeout=15)
        assert closed == {"type": "websocket.close", "code": CLOSE_RESYNC}
        # Pushes flow again to the page's new socket.
        again = await agent_socket(sales_agents[0])
        await sync_to_async(realtime.publish)(
            realtime.device_group(fonnte_device.pk),
            {"type": "device.status_changed", "device_id": fonnte_device.pk, "status": "x"},
        )
        assert f'id="device-{fonnte_device.pk}-banner"' in await again.receive_from(timeout=5)
        await again.disconnect()
    finally:
        redis_proc.terminate()
        redis_proc.wait()
        channel_layers.backends.clear()
