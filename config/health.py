"""Health: 200 while the database answers (webhooks can still be stored), 503 when it does not.

Redis down is reported as `degraded`: live pushes and sends wait, but nothing is lost.
"""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_ok() -> bool:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _redis_ok() -> bool:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@never_cache
@require_GET
def healthz(request):
    database = _database_ok()
    cache = _redis_ok()
    if not database:
        overall = "down"
    elif not cache:
        overall = "degraded"
    else:
        overall = "ok"
    body = {
        "status": overall,
        "database": "ok" if database else "down",
        "redis": "ok" if cache else "degraded",
    }
    return JsonResponse(body, status=200 if database else 503)
