from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings

from tests.workers import thread_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(transactional_db):
    # The worker's Django fixup closes database connections as it starts: the test's own
    # connection must not be inside an open test transaction then.
    with thread_worker(concurrency=1) as running:
        yield running


def test_healthy_when_database_redis_and_a_worker_answer(client, worker):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "celery": "ok"}


def test_head_answers_like_get(client, worker):
    response = client.head("/healthz")
    assert response.status_code == 200


def test_no_celery_worker_is_degraded_but_still_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "ok",
        "celery": "degraded",
    }


def test_redis_down_is_degraded_but_still_200(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "degraded",
        "celery": "degraded",
    }


@pytest.mark.django_db(transaction=True)
def test_sqlite_with_writes_blocked_is_503(client):
    """Another process holds SQLite's single write lock: webhooks could not be stored, so the
    gateway must be told to retry (and the load balancer to look elsewhere)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        # PostgreSQL's equivalent, a server that takes no writes:
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = on")
        try:
            response = client.get("/healthz")
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET default_transaction_read_only = off")
    else:
        blocker = sqlite3.connect(connection.settings_dict["NAME"], timeout=1)
        blocker.isolation_level = None
        blocker.execute("BEGIN IMMEDIATE")
        try:
            response = client.get("/healthz")
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
    assert response.status_code == 503
    assert response.json()["database"] == "read-only"
    assert response.json()["status"] == "down"


def test_database_down_is_503():
    # A fresh process whose database server does not exist: the real failure, not a stub.
    env = {**os.environ, "DATABASE_URL": "postgres://sapa:sapa@127.0.0.1:1/sapa"}
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client(HTTP_HOST='localhost').get('/healthz');"
        "print(json.dumps([r.status_code, r.json()]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode == 0, result.stderr
    status, body = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 503
    assert body["database"] == "down"
    assert body["status"] == "down"


def test_a_workers_answer_is_remembered_but_no_answer_never_is(client, transactional_db, settings):
    settings.HEALTH_CELERY_REMEMBER_SECONDS = 60
    assert client.get("/healthz").json()["celery"] == "degraded"
    with thread_worker():
        assert client.get("/healthz").json()["celery"] == "ok"
    # The worker has stopped: inside the window its answer still stands (no ping per probe).
    assert client.get("/healthz").json()["celery"] == "ok"
    settings.HEALTH_CELERY_REMEMBER_SECONDS = 0
    assert client.get("/healthz").json()["celery"] == "degraded"
