"""Real Celery workers for tests: one in this process (a thread, sharing the test's settings),
or a separate `celery worker` process that a test may kill -9. Also what the send tests share:
an assigned conversation to reply in, and a look at the task messages waiting in the broker.

The workers consume from the suite's private Redis and write to the test database, so tests that use
them need `django_db(transaction=True)`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

from chats.models import Conversation, Message
from config.celery import app
from tests.factories import AgentFactory, ContactFactory, ConversationFactory, DeviceFactory


def wait_until(predicate: Callable[[], object], *, timeout: float = 30.0, what: str = "") -> object:
    """Poll until `predicate()` is truthy; a bound for slow machines, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what or predicate}")
        time.sleep(0.05)


@contextlib.contextmanager
def thread_worker(concurrency: int = 4) -> Iterator[object]:
    """A real Celery worker (threads pool, like production) running inside the test process."""
    with start_worker(
        app,
        pool="threads",
        concurrency=concurrency,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=30,
    ) as worker:
        yield worker


def database_url_of_tests() -> str:
    """DATABASE_URL of the test database the suite is using right now."""
    sd = connection.settings_dict
    if sd["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{sd['NAME']}"
    auth = sd["USER"] or ""
    if sd.get("PASSWORD"):
        auth += f":{sd['PASSWORD']}"
    host = sd["HOST"] or "127.0.0.1"
    port = sd["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{sd['NAME']}"


class WorkerProcess:
    """`celery -A config worker --pool threads` as a child process, against the test database.
    With `beat`, the worker also runs beat (the periodic sweeps) in the same process."""

    def __init__(self, env: dict[str, str], concurrency: int = 2, beat: bool = False) -> None:
        self.logfile = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="sapa-worker-", suffix=".log", delete=False
        )
        beat_args = []
        if beat:
            schedule = Path(tempfile.mkdtemp(prefix="sapa-beat-")) / "schedule"
            beat_args = ["--beat", "--schedule", str(schedule)]
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.test_settings",
            "DATABASE_URL": database_url_of_tests(),
            "REDIS_URL": settings.REDIS_URL,
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "--hostname",
                f"test-{os.getpid()}-{time.monotonic_ns()}@localhost",
                *beat_args,
            ],
            cwd=str(Path(__file__).resolve().parent.parent),
            env=full_env,
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return Path(self.logfile.name).read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.log()}")
            return " ready." in self.log()

        wait_until(ready, timeout=timeout, what="the worker to be ready")

    def kill(self) -> None:
        """kill -9: no shutdown, no ack, no cleanup, like a host losing power."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.logfile.close()
        with contextlib.suppress(OSError):
            os.unlink(self.logfile.name)


# --- Data and broker helpers for the outbound tests -------------------------------------------


def assigned_conversation(**device_fields) -> Conversation:
    """An open conversation assigned to a new agent, on a device with a gateway token."""
    device = DeviceFactory(gateway_token="device-token-123", **device_fields)
    agent = AgentFactory(device=device, division=device.division)
    contact = ContactFactory(device=device, address="6281234567890")
    return ConversationFactory(contact=contact, agent=agent, status=Conversation.Status.OPEN)


def inbound(conversation: Conversation, *, inbox_id: int | None = 0, text: str = "Halo") -> Message:
    return Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.IN,
        text=text,
        gateway_inbox_id=inbox_id,
        status=Message.Status.RECEIVED,
    )


@dataclass
class BrokerTask:
    name: str
    args: list
    kwargs: dict
    eta: str | None


def broker_tasks(queue: str = "celery") -> list[BrokerTask]:
    """The task messages waiting in the Redis broker (no worker is consuming in these tests)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        raw = client.lrange(queue, 0, -1)
    finally:
        client.close()
    tasks = []
    # kombu pushes on the left: reverse to get publishing order.
    for item in reversed(raw):
        envelope = json.loads(item)
        args, kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        headers = envelope["headers"]
        tasks.append(BrokerTask(headers["task"], args, kwargs, headers.get("eta")))
    return tasks


def broker_idle(queue: str = "celery") -> bool:
    """No task waiting and none running: with acks_late a task is acknowledged (leaves the
    `unacked` hash) only when its run has finished."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        return client.llen(queue) == 0 and client.hlen("unacked") == 0
    finally:
        client.close()
