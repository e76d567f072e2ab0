"""Health: 200 while the database takes writes (webhooks can still be stored), 503 when it does
not answer or cannot write (the gateway then retries; docs/RELIABILITY.md).

A database that answers reads but takes no writes is as good as down for webhooks: SQLite
with its single write lock held by a stuck process, PostgreSQL in recovery or read-only. So
the probe asks for the write lock (SQLite) or the server's read-only state (PostgreSQL).
Redis down, or no Celery worker answering, is `degraded`: live pushes and sends wait, but
nothing is lost. GET and HEAD (load balancers probe with either).
"""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.celery import app as celery_app

# How long the probes may wait: a health check that hangs is a failed health check.
SQLITE_WRITE_WAIT_MS = 2000
CELERY_PING_TIMEOUT = 0.5
# A worker that answered is remembered this long, so a load balancer probing every second does
# not broadcast a ping to every worker each time; "no worker" is never remembered (asked again).
_last_worker_answer = 0.0


def _sqlite_writable(connection) -> bool:
    if connection.in_atomic_block:
        return True  # this connection's own transaction already holds the write lock
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        previous = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_WRITE_WAIT_MS}")
        try:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("ROLLBACK")
            return True
        except DatabaseError:
            return False
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {previous}")


def _postgresql_writable(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')")
        in_recovery, read_only = cursor.fetchone()
    return not in_recovery and read_only != "on"


def _database_state() -> str:
    """ "ok", "read-only" (answers but takes no writes) or "down"."""
    connection = connections["default"]
    try:
        if connection.vendor == "sqlite":
            writable = _sqlite_writable(connection)
        elif connection.vendor == "postgresql":
            writable = _postgresql_writable(connection)
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            writable = True
    except Exception:
        return "down"
    return "ok" if writable else "read-only"


def _redis_ok() -> bool:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _celery_workers() -> int:
    """How many workers answered a ping (the first answer ends the wait)."""
    global _last_worker_answer
    remembered = settings.HEALTH_CELERY_REMEMBER_SECONDS
    if remembered and time.monotonic() - _last_worker_answer < remembered:
        return 1
    try:
        workers = len(celery_app.control.ping(timeout=CELERY_PING_TIMEOUT, limit=1) or [])
    except Exception:
        return 0
    if workers and remembered:
        _last_worker_answer = time.monotonic()
    return workers


@never_cache
@require_safe
def healthz(request):
    database = _database_state()
    cache = _redis_ok()
    workers = _celery_workers() if cache else 0
    if database != "ok":
        overall = "down"
    elif not cache or not workers:
        overall = "degraded"
    else:
        overall = "ok"
    body = {
        "status": overall,
        "database": database,
        "redis": "ok" if cache else "degraded",
        "celery": "ok" if workers else "degraded",
    }
    return JsonResponse(body, status=200 if database == "ok" else 503)
