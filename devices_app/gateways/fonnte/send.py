"""Fonnte's send API (`POST /send`), also spoken by Sapa's sandbox gateway.

One call, one classified outcome. The client never raises for what the network or the gateway
did; it answers a `SendResult` that says whether the message was accepted, refused for good,
refused for now (safe to repeat: the request certainly did not create a message), or whether
the outcome is unknown (the request may have reached the gateway: never repeat it on our own).

Payload kinds: the caller builds the Fonnte fields for what it sends (`text_payload`,
`media_payload` with `url` and `filename`, `location_payload`, `poll_payload` with `pollname` /
`choices` / `select`) and the client adds `target` and posts.
Protocol facts: PROTOCOLS.md §1–2 and §8.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext_noop

logger = logging.getLogger(__name__)

# Failure `reason`s that repeating the same request cannot fix (PROTOCOLS.md §2.3).
PERMANENT_REASONS = frozenset(
    {
        "token invalid",
        "target invalid",
        "input invalid",
        "insufficient quota",
        "devices must belong to an account",
        "url invalid",
        "file format not supported",
        "file size must under 4mb",
        "json format invalid",
    }
)

MAX_TEXT_LENGTH = 60_000

# Answers a proxy gives after it passed the request on: 502 (the upstream connection broke or
# answered garbage), 504 (it stopped waiting), and Cloudflare's 520 (unknown upstream error)
# and 524 (upstream timeout). The outcome is unknown, so they are never repeated
# automatically. Other 5xx (500, 503, Cloudflare's 521–523: the origin was not reached) mean
# the request was not processed and are retried.
PROXY_UNKNOWN_STATUSES = frozenset({502, 504, 520, 524})

# Reasons Sapa writes itself. Untranslated message ids: the row keeps them, the page translates.
REASON_UNREACHABLE = gettext_noop("The gateway could not be reached.")
REASON_UNCONFIRMED_TIMEOUT = gettext_noop(
    "The gateway did not answer in time; the message may have been sent."
)
REASON_UNCONFIRMED_DROPPED = gettext_noop(
    "The connection to the gateway broke after the message was handed over; it may have been sent."
)
REASON_UNCONFIRMED_GARBLED = gettext_noop(
    "The gateway's answer could not be read; the message may have been sent."
)
REASON_HTTP_ERROR = gettext_noop("The gateway answered with an error.")
REASON_BAD_GATEWAY_URL = gettext_noop("The gateway address is misconfigured.")


@dataclass(frozen=True)
class SendResult:
    """What became of one `/send` request.

    - ok: the gateway accepted the message (`message_ids` holds its ids, one per target).
    - permanent: refused, and the same request will be refused again (bad token, target…).
    - certainly_not_sent: no message was created, so repeating the request is safe.
    - neither ok nor certainly_not_sent: the outcome is unknown.
    """

    ok: bool
    message_ids: list[str] = field(default_factory=list)
    reason: str = ""
    permanent: bool = False
    certainly_not_sent: bool = False
    http_status: int | None = None
    request_id: str = ""
    detail: str = ""

    @property
    def unknown(self) -> bool:
        return not self.ok and not self.certainly_not_sent


def _timeout() -> httpx.Timeout:
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
                    timeout=_timeout(),
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


def _lower_keys(data: dict[str, Any]) -> dict[str, Any]:
    # Fonnte spells the flag "status" on success and sometimes "Status" on failure.
    return {str(key).lower(): value for key, value in data.items()}


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value if item not in (None, "")]
    if value in (None, ""):
        return []
    return [str(value)]


def parse_send_response(status_code: int, body: bytes) -> SendResult:
    """Classify an HTTP answer from `/send`. Pure: tested on its own and through the client."""
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
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict) or (flag := _as_bool(_lower_keys(data).get("status"))) is None:
        # A 2xx we cannot read: the gateway had the request, so the outcome is unknown.
        return SendResult(ok=False, reason=REASON_UNCONFIRMED_GARBLED, http_status=status_code)
    data = _lower_keys(data)
    request_id = str(data.get("requestid") or "")
    if flag:
        return SendResult(
            ok=True,
            message_ids=_ids(data.get("id")),
            http_status=status_code,
            request_id=request_id,
            detail=str(data.get("detail") or data.get("process") or ""),
        )
    reason = str(data.get("reason") or data.get("detail") or "").strip()
    return SendResult(
        ok=False,
        reason=reason or REASON_HTTP_ERROR,
        # An answered refusal created nothing. Unknown reasons may pass (a server hiccup):
        # those are retried with backoff; the known hopeless ones fail at once.
        permanent=reason.lower() in PERMANENT_REASONS,
        certainly_not_sent=True,
        http_status=status_code,
        request_id=request_id,
    )


class FonnteClient:
    """Fonnte's `/send` for one base URL (Fonnte itself, or the sandbox)."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client

    def send(
        self, *, base_url: str, token: str, target: str, payload: dict[str, Any]
    ) -> SendResult:
        """POST `payload` + `target` to `<base_url>/send`, authorised by the device token.

        JSON body (Fonnte's own Node example posts JSON): it keeps booleans and the `inboxid`
        integer typed. A `file` upload would need multipart; add it with the media payloads.
        """
        client = self._client or shared_client.get()
        body = {**payload, "target": target}
        try:
            response = client.post(
                f"{base_url.rstrip('/')}/send",
                json=body,
                # Fonnte takes the raw device token, no "Bearer".
                headers={"Authorization": token},
                timeout=_timeout(),
            )
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            # No request was possible at all: a settings problem, not a network one.
            logger.error("gateway URL %r unusable: %r", base_url, exc)
            return SendResult(
                ok=False, reason=REASON_BAD_GATEWAY_URL, permanent=True, certainly_not_sent=True
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # No connection was made (refused, unreachable, DNS, or no free pooled
            # connection): the gateway never saw the request.
            logger.info("gateway %s unreachable: %r", base_url, exc)
            return SendResult(ok=False, reason=REASON_UNREACHABLE, certainly_not_sent=True)
        except httpx.TimeoutException as exc:
            # Read or write timeout: the request, or part of it, reached the gateway.
            logger.warning("gateway %s timed out: %r", base_url, exc)
            return SendResult(ok=False, reason=REASON_UNCONFIRMED_TIMEOUT)
        except httpx.TransportError as exc:
            # Reset or closed after (part of) the request was written: the outcome is unknown.
            logger.warning("gateway %s dropped the connection: %r", base_url, exc)
            return SendResult(ok=False, reason=REASON_UNCONFIRMED_DROPPED)
        return parse_send_response(response.status_code, response.content)


def text_payload(*, text: str, inbox_id: int | None = None) -> dict[str, Any]:
    """Fonnte fields for a text message, quoting an inbound message when its inbox id is known.

    `countryCode: "0"` turns off Fonnte's rewrite of a leading 0: Sapa stores addresses already
    in international form (6281…) or as group ids, so there is nothing to rewrite.
    """
    return {"message": text, **_common(inbox_id)}


def _common(inbox_id: int | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"countryCode": "0"}
    if inbox_id:
        payload["inboxid"] = inbox_id
    return payload


def media_payload(
    *, url: str, filename: str = "", caption: str = "", inbox_id: int | None = None
) -> dict[str, Any]:
    """Fonnte fields for an attachment the gateway fetches from `url` (PROTOCOLS.md §2.1).

    `message` travels as the caption; `filename` is what a document or audio file is called on
    the customer's phone (Fonnte ignores it for images and video).
    """
    payload = text_payload(text=caption, inbox_id=inbox_id)
    payload["url"] = url
    if filename:
        payload["filename"] = filename
    return payload


def location_payload(
    *, latitude: Decimal | float, longitude: Decimal | float, inbox_id: int | None = None
) -> dict[str, Any]:
    """Fonnte fields for a location pin: `location` is one "lat,long" string."""
    payload = _common(inbox_id)
    # Plain notation always: str(Decimal("1E-7")) would read "1E-7".
    payload["location"] = (
        f"{format(Decimal(str(latitude)), 'f')},{format(Decimal(str(longitude)), 'f')}"
    )
    return payload


def poll_payload(
    *, question: str, choices: Sequence[str], multiple: bool, inbox_id: int | None = None
) -> dict[str, Any]:
    """Fonnte fields for a poll: `pollname`, `choices` comma-separated, `select`.

    The choices must not contain commas (templates_app.services.poll_choices_normalize
    refuses them): Fonnte splits the string on every comma.
    """
    if any("," in choice for choice in choices):
        raise ValueError("poll choices must not contain commas")
    payload = _common(inbox_id)
    payload.update(
        {
            "pollname": question,
            "choices": ",".join(choices),
            "select": "multiple" if multiple else "single",
        }
    )
    return payload
