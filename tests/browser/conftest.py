"""The real stack for browser tests: Uvicorn (HTTP + WebSocket) and a Celery worker as child
processes against the pytest test database and Redis, with `FONNTE_API_URL` pointing at a local
Fonnte-speaking server (tests/gateway_server.py) that records what it receives.

Module-scoped, not session-scoped: the worker consumes from the suite's broker, and must not
take tasks that other test modules inspect there. Children are stopped before the test
database is torn down (PostgreSQL refuses to drop a database with open connections).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from pytest_httpserver import HTTPServer

from tests.gateway_server import FonnteGateway, free_port
from tests.servers import uvicorn_server
from tests.workers import WorkerProcess, database_url_of_tests

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Stack:
    base_url: str
    gateway: FonnteGateway
    worker: WorkerProcess
    server_log: Path


def _child_env(gateway: FonnteGateway) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": database_url_of_tests(),
        "REDIS_URL": settings.REDIS_URL,
        "FONNTE_API_URL": gateway.url,
        "DJANGO_DEBUG": "false",
        "AXES_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker) -> Iterator[Stack]:
    server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    gateway = FonnteGateway(server=server)
    gateway.install()
    server.start()
    env = _child_env(gateway)
    worker = WorkerProcess(env=env, concurrency=2)
    try:
        worker.wait_ready()
        with uvicorn_server(env) as (base, log):
            yield Stack(base_url=base, gateway=gateway, worker=worker, server_log=log)
    finally:
        worker.stop()
        gateway.release.set()
        if server.is_running():
            server.stop()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
