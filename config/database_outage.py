"""The database cannot be reached: answer 503 (with Retry-After), never 500.

A gateway retries a webhook it did not see answered 200 (Fonnte: 15 times, a minute apart), so
503 is the truthful answer while the database is down or locked: nothing was stored (every
store runs in one transaction, which the failure rolled back) and the retry will store it once.
Load balancers and people read 503 the same way. Only connection-level errors count here
(OperationalError, InterfaceError: server gone, pool exhausted, SQLite locked past its busy
timeout); a bad value is a bug or bad input, handled elsewhere. (docs/RELIABILITY.md "Redis and
database outages".)
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
WEBHOOK_PREFIX = "/hooks/"


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("database unavailable for %s: %s", request.path, exception)
        if request.path.startswith(WEBHOOK_PREFIX):
            # For the gateway (and whoever reads its logs): not stored, send it again.
            response = JsonResponse(
                {"ok": False, "error": "database unavailable: not stored, retry later"},
                status=503,
            )
        else:
            response = HttpResponse(
                _("Sapa cannot reach its database right now. Try again in a moment."),
                content_type="text/plain; charset=utf-8",
                status=503,
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
