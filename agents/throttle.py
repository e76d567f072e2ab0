"""Sign-in throttling that fails closed when its store (the Redis cache) is unreachable.

django-axes keeps the failed-attempt counters in the Redis cache. Out of the box a Redis outage
turns every sign-in into a 500. Letting sign-ins through unthrottled instead would hand anyone
who can stall Redis an unlimited guessing window, so Sapa refuses them while it cannot count:
`ThrottleUnavailable` is raised before any token or password is checked, and
`ThrottleUnavailableMiddleware` answers it with a clear 503 page for both sign-in forms (agents'
and the admin's). A successful sign-in whose counters cannot be cleared afterwards still
succeeds: the check has passed and the counters expire on their own.
(docs/RELIABILITY.md "Redis and database outages".)
"""

from __future__ import annotations

import logging

from axes.handlers.cache import AxesCacheHandler
from django.shortcuts import render
from redis import RedisError

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait before trying again.
RETRY_AFTER_SECONDS = 60


class ThrottleUnavailable(Exception):
    """The sign-in throttle's store cannot be reached: no attempt can be counted or checked."""


class FailClosedCacheHandler(AxesCacheHandler):
    """AxesCacheHandler that raises ThrottleUnavailable instead of a Redis error."""

    def get_failures(self, request, credentials=None) -> int:
        try:
            return super().get_failures(request, credentials)
        except RedisError as exc:
            raise ThrottleUnavailable(str(exc)) from exc

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        try:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        except RedisError as exc:
            raise ThrottleUnavailable(str(exc)) from exc

    def user_logged_in(self, sender, request, user, **kwargs):
        try:
            return super().user_logged_in(sender, request, user, **kwargs)
        except RedisError:
            logger.warning("could not reset the sign-in counters of %s", user.pk, exc_info=True)


class ThrottleUnavailableMiddleware:
    """Answer ThrottleUnavailable from any view with the "sign-in paused" page (503)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ThrottleUnavailable):
            return None
        logger.warning("sign-in refused: the throttle's store is unreachable (%s)", exception)
        response = render(request, "agents/throttle_unavailable.html", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
