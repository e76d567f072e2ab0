"""Fonnte's send API (`POST /send`), also spoken by Sapa's sandbox gateway.

One call, one classified outcome (base.SendResult). The client never raises for what the
network or the gateway did; it answers whether the message was accepted, refused for good,
refused for now (safe to repeat: the request certainly did not create a message), or whether
the outcome is unknown (the request may have reached the gateway: never repeat it on our own).

Payload kinds: `payload_for` turns a base.Outgoing into Fonnte's fields (`text_payload`,
`media_payload` with `url` and `filename`, `location_payload`, `poll_payload` with `pollname` /
`choices` / `select`, `inboxid` to quote) and the client adds `target` and posts.
Protocol facts: docs/ARCHITECTURE.md "Fonnte's protocol".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx

from .. import http
from ..base import (
    REASON_BAD_GATEWAY_URL,
    REASON_HTTP_ERROR,
    REASON_UNCONFIRMED_DROPPED,
    REASON_UNCONFIRMED_GARBLED,
    REASON_UNCONFIRMED_TIMEOUT,
    REASON_UNREACHABLE,
    Outgoing,
    SendResult,
)

logger = logging.getLogger(__name__)

# Names other modules and tests read from here (they are defined for every gateway in base).
__all__ = [
    "REASON_BAD_GATEWAY_URL",
    "REASON_HTTP_ERROR",
    "REASON_UNCONFIRMED_DROPPED",
    "REASON_UNCONFIRMED_GARBLED",
    "REASON_UNCONFIRMED_TIMEOUT",
    "REASON_UNREACHABLE",
    "FonnteClient",
    "SendResult",
    "location_payload",
    "media_payload",
    "parse_send_response",
    "payload_for",
    "poll_payload",
    "text_payload",
]

# Failure `reason`s that repeating the same request cannot fix (docs/ARCHITECTURE.md
# "Fonnte's protocol").
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
    by_status = http.classify_http_status(status_code)
    if by_status is not None:
        return by_status
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
        self,
        *,
        base_url: str,
        token: str,
        target: str,
        payload: dict[str, Any],
        upload: tuple[str, bytes, str] | None = None,
    ) -> SendResult:
        """POST `payload` + `target` to `<base_url>/send`, authorised by the device token.

        JSON body (Fonnte's own Node example posts JSON): it keeps booleans and the `inboxid`
        integer typed. With `upload` (name, bytes, content type) the body is multipart with
        the file as `file`, the only way Fonnte takes an uploaded file.
        """
        body = {**payload, "target": target}
        # Fonnte takes the raw device token, no "Bearer".
        headers = {"Authorization": token}
        url = f"{base_url.rstrip('/')}/send"
        if upload is None:
            response = http.post(url, client=self._client, json=body, headers=headers)
        else:
            fields = {key: _form_value(value) for key, value in body.items()}
            response = http.post(
                url, client=self._client, data=fields, files={"file": upload}, headers=headers
            )
        if isinstance(response, SendResult):
            return response
        return parse_send_response(response.status_code, response.content)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def payload_for(outgoing: Outgoing) -> dict[str, Any]:
    """Fonnte's fields for one outgoing message (without `target`, added by the client)."""
    quote = outgoing.quote_id
    if outgoing.poll is not None:
        return poll_payload(
            question=outgoing.poll.question,
            choices=outgoing.poll.choices,
            multiple=outgoing.poll.multiple,
            inbox_id=quote,
        )
    if outgoing.location is not None:
        latitude, longitude = outgoing.location
        return location_payload(latitude=latitude, longitude=longitude, inbox_id=quote)
    if outgoing.upload is not None:
        payload = text_payload(text=outgoing.text, inbox_id=quote)
        if outgoing.attachment_name or outgoing.upload.name:
            payload["filename"] = outgoing.attachment_name or outgoing.upload.name
        return payload
    if outgoing.attachment_url:
        return media_payload(
            url=outgoing.attachment_url,
            filename=outgoing.attachment_name,
            caption=outgoing.text,
            inbox_id=quote,
        )
    return text_payload(text=outgoing.text, inbox_id=quote)


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
    """Fonnte fields for an attachment the gateway fetches from `url`.

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
