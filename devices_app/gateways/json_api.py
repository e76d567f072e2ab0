"""One JSON call to a gateway's HTTP API, with what the network did made explicit.

The ApiWago and wonotify clients share this: a call answers either an `Answer` (the gateway
said something, any status code) or a `TransportFailure` saying how far the request got. The
clients classify both into their gateway's meaning; this module decides nothing about it.

Why the failure kinds matter (DESIGN.md "Delivery semantics"): `unreachable` means no
connection was made, so the gateway never saw the request and repeating it is safe; `timeout`
and `dropped` mean (part of) the request reached it, so a send may have happened; `bad_url`
means the configured address cannot be used at all.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from django.conf import settings
from django.utils.translation import gettext_noop

from .base import REASON_BAD_GATEWAY_URL, REASON_UNREACHABLE

logger = logging.getLogger(__name__)

FailureKind = Literal["unreachable", "timeout", "dropped", "bad_url"]

# Reasons for device operations (a send uses base's "may have been sent" ones instead).
REASON_TIMEOUT = gettext_noop("The gateway did not answer in time.")
REASON_DROPPED = gettext_noop("The connection to the gateway broke.")
REASON_GARBLED = gettext_noop("The gateway's answer could not be read.")

FAILURE_REASONS: dict[str, str] = {
    "unreachable": REASON_UNREACHABLE,
    "timeout": REASON_TIMEOUT,
    "dropped": REASON_DROPPED,
    "bad_url": REASON_BAD_GATEWAY_URL,
}

# Answers a proxy gives after it passed the request on (502, 504, Cloudflare's 520/524): the
# gateway may have acted on it.
PROXY_UNKNOWN_STATUSES = frozenset({502, 504, 520, 524})


@dataclass(frozen=True)
class Answer:
    status_code: int
    data: Any  # the decoded JSON, or None when the body is not JSON
    text: str  # the body as text, cut short: for messages when it is not JSON


@dataclass(frozen=True)
class TransportFailure:
    kind: FailureKind

    @property
    def reason(self) -> str:
        return FAILURE_REASONS[self.kind]


def _timeout() -> httpx.Timeout:
    # The worker runs a threads pool, which ignores Celery's time limits: these bound the call.
    return httpx.Timeout(
        connect=settings.GATEWAY_CONNECT_TIMEOUT,
        read=settings.GATEWAY_READ_TIMEOUT,
        write=settings.GATEWAY_WRITE_TIMEOUT,
        pool=settings.GATEWAY_POOL_TIMEOUT,
    )


class _SharedClient:
    """One httpx.Client per process, recreated after a fork (a pool inherited from the parent
    would share its sockets)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._pid: int | None = None

    def get(self) -> httpx.Client:
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                self._client = httpx.Client(
                    timeout=_timeout(),
                    limits=httpx.Limits(
                        max_connections=settings.GATEWAY_MAX_CONNECTIONS,
                        max_keepalive_connections=settings.GATEWAY_MAX_CONNECTIONS,
                        # Shorter than any server's idle timeout (see fonnte_send).
                        keepalive_expiry=5.0,
                    ),
                    headers={"User-Agent": "Sapa"},
                    follow_redirects=False,
                )
                self._pid = os.getpid()
            return self._client


shared_client = _SharedClient()


def call(
    method: str,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
    client: httpx.Client | None = None,
) -> Answer | TransportFailure:
    """Make one request; never raises for what the network or the gateway did."""
    http = client or shared_client.get()
    try:
        response = http.request(
            method,
            url,
            params=params,
            json=json_body,
            headers=headers,
            timeout=_timeout(),
        )
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        logger.error("gateway URL %r unusable: %r", url, exc)
        return TransportFailure("bad_url")
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        logger.info("gateway %s unreachable: %r", url, exc)
        return TransportFailure("unreachable")
    except httpx.TimeoutException as exc:
        logger.warning("gateway %s timed out: %r", url, exc)
        return TransportFailure("timeout")
    except httpx.TransportError as exc:
        logger.warning("gateway %s dropped the connection: %r", url, exc)
        return TransportFailure("dropped")
    try:
        data = json.loads(response.content) if response.content else None
    except ValueError:
        data = None
    return Answer(
        status_code=response.status_code,
        data=data,
        text=response.content[:300].decode("utf-8", "replace").strip(),
    )
