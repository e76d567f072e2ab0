"""HTTP for every adapter: one pooled client per process, bounded timeouts, and the
classification of what the network and HTTP status codes say about a send (docs/ARCHITECTURE.md
"Delivery semantics"). A gateway's own answer body is classified by its adapter.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import httpx
from django.conf import settings

from .base import (
    REASON_BAD_GATEWAY_URL,
    REASON_UNCONFIRMED_DROPPED,
    REASON_UNCONFIRMED_TIMEOUT,
    REASON_UNREACHABLE,
    SendResult,
)

logger = logging.getLogger(__name__)

# Answers a proxy gives after it passed the request on: 502 (the upstream connection broke or
# answered garbage), 504 (it stopped waiting), and Cloudflare's 520 (unknown upstream error)
# and 524 (upstream timeout). The outcome is unknown, so they are never repeated
# automatically. Other 5xx (500, 503, Cloudflare's 521–523: the origin was not reached) mean
# the request was not processed and are retried.
PROXY_UNKNOWN_STATUSES = frozenset({502, 504, 520, 524})


def timeout() -> httpx.Timeout:
    # The worker runs a threads pool, which ignores Celery's time limits: these bound the call.
    return httpx.Timeout(
        connect=settings.GATEWAY_CONNECT_TIMEOUT,
        read=settings.GATEWAY_READ_TIMEOUT,
        write=settings.GATEWAY_WRITE_TIMEOUT,
        pool=settings.GATEWAY_POOL_TIMEOUT,
    )


class _SharedClient:
    """One httpx.Client per process (thread-safe, keeps connections alive between sends).

    Recreated after a fork, like the realtime publisher: a pool inherited from the parent would
    share its sockets.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._pid: int | None = None

    def get(self) -> httpx.Client:
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                self._client = httpx.Client(
                    timeout=timeout(),
                    limits=httpx.Limits(
                        max_connections=settings.GATEWAY_MAX_CONNECTIONS,
                        max_keepalive_connections=settings.GATEWAY_MAX_CONNECTIONS,
                        # Shorter than any server's idle timeout, so we rarely write into a
                        # connection the server is closing (that would read as "unknown").
                        keepalive_expiry=5.0,
                    ),
                    headers={"User-Agent": "Sapa"},
                    follow_redirects=False,
                )
                self._pid = os.getpid()
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = None


shared_client = _SharedClient()


def post(
    url: str, *, client: httpx.Client | None = None, **kwargs: Any
) -> httpx.Response | SendResult:
    """POST once. Answers the response, or a SendResult when no answer came back: what the
    failure proves about whether the gateway saw the request decides its outcome."""
    client = client or shared_client.get()
    try:
        return client.post(url, timeout=timeout(), **kwargs)
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        # No request was possible at all: a settings problem, not a network one.
        logger.error("gateway URL %r unusable: %r", url, exc)
        return SendResult(
            ok=False, reason=REASON_BAD_GATEWAY_URL, permanent=True, certainly_not_sent=True
        )
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        # No connection was made (refused, unreachable, DNS, or no free pooled connection):
        # the gateway never saw the request.
        logger.info("gateway %s unreachable: %r", url, exc)
        return SendResult(ok=False, reason=REASON_UNREACHABLE, certainly_not_sent=True)
    except httpx.TimeoutException as exc:
        # Read or write timeout: the request, or part of it, reached the gateway.
        logger.warning("gateway %s timed out: %r", url, exc)
        return SendResult(ok=False, reason=REASON_UNCONFIRMED_TIMEOUT)
    except httpx.TransportError as exc:
        # Reset or closed after (part of) the request was written: the outcome is unknown.
        logger.warning("gateway %s dropped the connection: %r", url, exc)
        return SendResult(ok=False, reason=REASON_UNCONFIRMED_DROPPED)


def classify_http_status(status_code: int) -> SendResult | None:
    """What an HTTP status alone says about a send; None for a 2xx (read the body)."""
    if 300 <= status_code < 400:
        # We never follow redirects (a redirected POST loses its body): the gateway did not
        # process this request, and the configured address is wrong (http → https, a moved
        # path). Repeating cannot help.
        return SendResult(
            ok=False,
            reason=f"HTTP {status_code}",
            permanent=True,
            certainly_not_sent=True,
            http_status=status_code,
        )
    if status_code in PROXY_UNKNOWN_STATUSES:
        # A proxy in front of the gateway handed the request on, then lost the answer (gave up
        # waiting, or the connection broke): the gateway may have queued the message.
        return SendResult(ok=False, reason=f"HTTP {status_code}", http_status=status_code)
    if status_code == 429 or 500 <= status_code < 600:
        # The gateway (or its proxy) refused to process the request: nothing was queued.
        return SendResult(
            ok=False,
            reason=f"HTTP {status_code}",
            certainly_not_sent=True,
            http_status=status_code,
        )
    if 400 <= status_code < 500:
        # Our request is wrong (bad path, refused auth, oversized body): repeating cannot help.
        return SendResult(
            ok=False,
            reason=f"HTTP {status_code}",
            permanent=True,
            certainly_not_sent=True,
            http_status=status_code,
        )
    return None
