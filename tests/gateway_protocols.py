"""What the gateway contract suite knows of each gateway's wire protocol: a local server speaking
it (pytest-httpserver), how to read back what an adapter sent, the answers it can give, and the
webhook bodies it posts. One entry per sending adapter; the suite fails for an adapter that
can send but has no entry here (tests/devices_app/test_gateway_contract.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from pytest_httpserver import HTTPServer

from tests.gateway_server import (
    Behaviour,
    FonnteGateway,
    Received,
    accept,
    free_port,
    http_error,
    refuse,
    slow,
)


@dataclass(frozen=True)
class Sent:
    """A send request as the contract reads it, whatever the protocol's field names."""

    token: str
    target: str
    text: str = ""
    url: str = ""
    filename: str = ""
    upload: tuple[str, bytes] | None = None
    location: tuple[Decimal, Decimal] | None = None
    poll: tuple[str, tuple[str, ...], bool] | None = None
    quote_id: str = ""


@dataclass
class Protocol:
    """One gateway protocol, served locally for one test."""

    server: FonnteGateway
    read: Callable[[Received], Sent]
    # Answers the server can be scripted with.
    accepted: Behaviour
    refused_for_good: Behaviour  # a documented permanent reason
    refused_for_now: Behaviour  # the gateway could not take it now: nothing was created
    slow: Callable[[float], Behaviour]
    # Webhook bodies, as the gateway posts them.
    incoming: Callable[..., bytes]
    status: Callable[..., bytes]
    connection: Callable[..., bytes]
    content_type: str = "application/json"

    @property
    def requests(self) -> list[Received]:
        return self.server.requests

    def respond(self, *behaviours: Behaviour) -> None:
        self.server.respond(*behaviours)


# --- Fonnte (PROTOCOLS.md §2, §4–6); the sandbox speaks it too --------------------------------


def _fonnte_read(received: Received) -> Sent:
    body = received.json or received.form
    location = None
    if body.get("location"):
        lat, lng = str(body["location"]).split(",")
        location = (Decimal(lat), Decimal(lng))
    poll = None
    if body.get("pollname"):
        poll = (
            body["pollname"],
            tuple(str(body["choices"]).split(",")),
            body.get("select") == "multiple",
        )
    return Sent(
        token=received.headers.get("authorization", ""),
        target=str(body.get("target", "")),
        text=str(body.get("message", "")),
        url=str(body.get("url", "")),
        filename=str(body.get("filename", "")),
        upload=received.files.get("file"),
        location=location,
        poll=poll,
        quote_id=str(body.get("inboxid", "")),
    )


def _fonnte_incoming(*, device_number: str, sender: str, text: str, message_id: str) -> bytes:
    return json.dumps(
        {
            "device": device_number,
            "sender": sender,
            "member": "",
            "name": "Budi",
            "message": text,
            "text": "non-button message",
            "type": "text",
            "inboxid": int(message_id),
            "isgroup": False,
        }
    ).encode()


FONNTE_WORDS = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "expired"}


def _fonnte_status(*, device_number: str, message_id: str, delivery: str) -> bytes:
    body = {"device": device_number, "id": message_id, "stateid": f"s-{message_id}"}
    if delivery in ("delivered", "read"):
        body.update(status="sent", state=FONNTE_WORDS[delivery])
    else:
        body.update(status=FONNTE_WORDS[delivery])
    return json.dumps(body).encode()


def _fonnte_connection(*, device_number: str, connected: bool, reason: str = "") -> bytes:
    return json.dumps(
        {
            "device": device_number,
            "status": "connect" if connected else "disconnect",
            "reason": reason,
            "timestamp": 1_736_700_000,
        }
    ).encode()


def _fonnte_protocol(server: FonnteGateway) -> Protocol:
    return Protocol(
        server=server,
        read=_fonnte_read,
        accepted=accept,
        refused_for_good=refuse("target invalid"),
        refused_for_now=http_error(503),
        slow=lambda seconds: slow(seconds),
        incoming=_fonnte_incoming,
        status=_fonnte_status,
        connection=_fonnte_connection,
    )


def _serve(settings, kind: str, server: FonnteGateway) -> None:
    if kind == "fonnte":
        server.install()
        settings.FONNTE_API_URL = server.url
    elif kind == "sandbox":
        # The sandbox adapter posts to Sapa's own simulator under PUBLIC_BASE_URL.
        server.install(prefix="/sandbox/fonnte")
        settings.PUBLIC_BASE_URL = server.url
    else:  # pragma: no cover - a new adapter needs its protocol here
        raise LookupError(kind)


PROTOCOLS: dict[str, Callable[[FonnteGateway], Protocol]] = {
    "fonnte": _fonnte_protocol,
    "sandbox": _fonnte_protocol,
}


@pytest.fixture(name="protocol_server")
def protocol_server_fixture(settings) -> Iterator[Callable[[str], Protocol]]:
    """Start a local server speaking the protocol of the gateway `kind` and point the adapter
    at it: `protocol = protocol_server("fonnte")`."""
    started: list[HTTPServer] = []

    def start(kind: str) -> Protocol:
        http_server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
        server = FonnteGateway(server=http_server)
        _serve(settings, kind, server)
        http_server.start()
        started.append(http_server)
        return PROTOCOLS[kind](server)

    yield start
    for http_server in started:
        if http_server.is_running():
            http_server.stop()
