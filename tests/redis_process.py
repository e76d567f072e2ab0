"""A redis-server of a test's own, on a free port, that the test may kill -9 and start again.

The suite's shared Redis (`make test`) stays up; processes under test (Uvicorn, Celery) get this
one's URL. No persistence: a restart comes back empty, like a Redis that lost its data, which is
the harder case (every task message in the broker is gone; the sweeps must recover).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator

import redis

from scripts.with_redis import find_redis_server
from tests.gateway_server import free_port
from tests.workers import wait_until


class RedisProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix="sapa-fault-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _pings(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                find_redis_server(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.workdir,
                "--logfile",
                os.path.join(self.workdir, "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self._pings, timeout=15, what="the test's redis-server to answer")

    def kill(self) -> None:
        """kill -9: the server vanishes mid-conversation, connections reset, data gone."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        self.proc = None

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextlib.contextmanager
def redis_process() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    try:
        yield server
    finally:
        server.close()
