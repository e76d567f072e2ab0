"""A web process that dies without closing its sockets must not leave its agents online.

Real processes: Uvicorn serves the ASGI app in a child process, a real WebSocket client holds an
agent socket open, then the child is SIGKILLed — no disconnect ever runs. The agent's key stops
being refreshed and expires; the sweep publishes the agent offline.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest
from django.test import Client
from django.urls import reverse
from websockets.sync.client import connect

from agents.presence import presence_state, presence_sweep
from tests.rotation.helpers import REPO, child_env

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_presence_expires_when_the_web_process_is_killed(agent_with_token):
    agent = agent_with_token.agent
    client = Client()
    client.post(
        reverse("agents:login"),
        {"device_number": "6281100000001", "token": agent_with_token.token},
    )
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    port = free_port()
    env = child_env(
        PRESENCE_TTL_SECONDS="2", PRESENCE_HEARTBEAT_SECONDS="0.4", PRESENCE_GRACE_SECONDS="1"
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    ws = None
    try:

        def listening() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return True
            except OSError:
                return False

        assert wait_for(listening), "uvicorn did not start"
        ws = connect(
            f"ws://127.0.0.1:{port}/ws/agent/",
            additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"},
            open_timeout=10,
        )
        assert wait_for(lambda: presence_state(agent_id=agent.pk) == "online")
        # Well past the TTL, the child's heartbeats have kept the agent online.
        time.sleep(4)
        assert presence_state(agent_id=agent.pk) == "online"

        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        assert wait_for(lambda: presence_state(agent_id=agent.pk) == "offline")
        assert presence_sweep() == {agent.pk: "offline"}
    finally:
        if ws is not None:
            ws.close_socket()
        if server.poll() is None:
            server.kill()
            server.wait()
