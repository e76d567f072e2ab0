"""One JSON call to a gateway's HTTP API, with what the network did made explicit.

The ApiWago and wonotify clients share this: a call answers either an `Answer` (the gateway
said something, any status code) or a `TransportFailure` saying how far the request got. The
clients classify both into their gateway's meaning; this module decides nothing about it.

Why the failure kinds matter (docs/ARCHITECTURE.md "Delivery semantics"): `unreachable` means no
connection was made, so the gateway never saw the request and repeating it is safe; `timeout`
and `dropped` mean (part of) the request reached it, so a send may have happened; `bad_url`
means the configured address cannot be used at all.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from django.utils.translation import gettext_noop

from ..untrusted import Unstorable, load_json
from .base import (
    REASON_BAD_GATEWAY_URL,
    REASON_UNCONFIRMED_DROPPED,
    REASON_UNCONFIRMED_TIMEOUT,
    REASON_UNREACHABLE,
    SendResult,
)
from .http import shared_client, timeout

logger = logging.getLogger(__name__)

FailureKind = Literal["unreachable", "timeout", "dropped", "bad_url"]

# Reasons for device operations (a send uses base's "may have been sent" ones instead).
REASON_TIMEOUT = gettext_noop("The gateway did not answer in time.")
REASON_DROPPED = gettext_noop("The connection to the gateway broke.")
REASON_GARBLED = gettext_noop("The gateway's answer could not be read.")

OPERATION_REASONS = frozenset({REASON_TIMEOUT, REASON_DROPPED, REASON_GARBLED})

FAILURE_REASONS: dict[str, str] = {
    "unreachable": REASON_UNREACHABLE,
    "timeout": REASON_TIMEOUT,
    "dropped": REASON_DROPPED,
    "bad_url": REASON_BAD_GATEWAY_URL,
}


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

    def send_result(self) -> SendResult:
        """What this failure means for a send (docs/ARCHITECTURE.md "Delivery semantics"): only
        a request that certainly never left may be repeated; a timeout or a dropped answer may
        have been sent, so a person decides."""
        if self.kind == "unreachable":
            return SendResult(ok=False, reason=REASON_UNREACHABLE, certainly_not_sent=True)
        if self.kind == "bad_url":
            return SendResult(
                ok=False, reason=REASON_BAD_GATEWAY_URL, permanent=True, certainly_not_sent=True
            )
        if self.kind == "timeout":
            return SendResult(ok=False, reason=REASON_UNCONFIRMED_TIMEOUT)
        return SendResult(ok=False, reason=REASON_UNCONFIRMED_DROPPED)


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
            timeout=timeout(),
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


def load_webhook_json(raw: bytes) -> dict[str, Any]:
    """A webhook body as a JSON object, safe to store; ValueError says why it is not one."""
    if not raw.strip():
        raise ValueError("empty body: expected a JSON object")
    # The one cleaning step for gateway bodies (docs/RELIABILITY.md "Webhooks that cannot be
    # lost"): NUL, lone surrogates, NaN / Infinity and deep nesting, for every gateway alike.
    try:
        data = load_json(raw)
    except Unstorable as exc:
        raise ValueError(str(exc)) from exc
    if not isinstance(data, dict):
        raise ValueError(f"body must be a JSON object, got {type(data).__name__}")
    return data
