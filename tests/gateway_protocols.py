"""What the gateway contract suite knows of each gateway's wire protocol: a local server speaking
it (pytest-httpserver), how to read back what an adapter sent, the answers it can give, and the
webhook bodies it posts. One entry per sending adapter; the suite fails for an adapter that
can send but has no entry here (tests/devices_app/test_gateway_contract.py).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests import apiwago_server, wonotify_server
from tests.gateway_server import (
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

    server: Any  # the local server: it records `requests` and takes scripted answers
    read: Callable[[Any], Sent]
    # Answers the server can be scripted with.
    accepted: Any
    refused_for_good: Any  # a documented permanent reason
    refused_for_now: Any  # the gateway could not take it now: nothing was created
    slow: Callable[[float], Any]
    # Webhook bodies, as the gateway posts them.
    incoming: Callable[..., bytes]
    status: Callable[..., bytes]
    connection: Callable[..., bytes] | None = None  # None: it reports no connection changes
    content_type: str = "application/json"
    # Point the adapter at another address (a closed port, for the unreachable case).
    point_at: Callable[[Any, str], None] = lambda settings, url: None
    # Device fields the protocol needs besides the token (wonotify's instance id).
    device_fields: dict[str, str] = field(default_factory=dict)
    # True when poll choices travel comma-separated (Fonnte): a comma inside one is refused.
    poll_choices_comma_separated: bool = False
    http_server: HTTPServer | None = None

    @property
    def requests(self) -> list:
        return self.server.requests

    def respond(self, *behaviours) -> None:
        self.server.respond(*behaviours)


# --- Fonnte (docs/ARCHITECTURE.md, "Fonnte's protocol"); the sandbox speaks it too ----------------


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


def _fonnte_point_at(settings, url: str) -> None:
    settings.FONNTE_API_URL = settings.PUBLIC_BASE_URL = url


def _start_fonnte(settings, kind: str) -> Protocol:
    http_server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    server = FonnteGateway(server=http_server)
    if kind == "sandbox":
        # The sandbox adapter posts to Sapa's own simulator under PUBLIC_BASE_URL.
        server.install(prefix="/sandbox/fonnte")
        settings.PUBLIC_BASE_URL = server.url
    else:
        server.install()
        settings.FONNTE_API_URL = server.url
    http_server.start()
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
        point_at=_fonnte_point_at,
        poll_choices_comma_separated=True,
        http_server=http_server,
    )


# --- ApiWago (docs/ARCHITECTURE.md) --------------------------------------------------------------


def _apiwago_read(received) -> Sent:
    body = received.json or {}
    options = body.get("options") or {}
    poll = None
    if received.path == "/api/send-poll":
        poll = (
            options.get("name", ""),
            tuple(options.get("options", ())),
            options.get("selectableCount") == 0,
        )
    url, upload = str(body.get("file_url", "")), None
    if url.startswith("data:"):
        # An upload travels as a data: URI the gateway decodes.
        upload = (str(body.get("file_name", "")), base64.b64decode(url.split(",", 1)[1]))
        url = ""
    return Sent(
        token=str(body.get("token", "")),
        target=str(body.get("phone", "")),
        text=str(body.get("message", "")),
        url=url,
        filename="" if upload else str(body.get("file_name", "")),
        upload=upload,
        poll=poll,
    )


def _apiwago_incoming(*, device_number: str, sender: str, text: str, message_id: str) -> bytes:
    jid = f"{sender}@s.whatsapp.net"
    original = {
        "key": {"remoteJid": jid, "fromMe": False, "id": message_id},
        "messageTimestamp": 1_785_902_400,
        "pushName": "Budi",
        "broadcast": False,
        "message": {"conversation": text},
    }
    return json.dumps(
        {
            "event": "message",
            "phone": sender,
            "to": sender,
            "chat": jid,
            "remoteJid": jid,
            "sender": sender,
            "fromMe": False,
            "pushName": "Budi",
            "text": text,
            "message": text,
            "type": "conversation",
            "payload": json.dumps([original]),
            "update_at": "2026-08-05 12:00:00",
        }
    ).encode()


# whatsmeow's receipt types: ApiWago reports delivery ("") and reading, nothing else.
APIWAGO_RECEIPTS = {"delivered": "", "read": "read"}


def _apiwago_status(*, device_number: str, message_id: str, delivery: str) -> bytes:
    return json.dumps(
        {
            "event": "receipt",
            "chat": "6281234500001@s.whatsapp.net",
            "sender": "6281234500001@s.whatsapp.net",
            "timestamp": 1_785_902_400,
            "type": APIWAGO_RECEIPTS[delivery],
            "ids": [message_id],
        }
    ).encode()


def _apiwago_point_at(settings, url: str) -> None:
    settings.APIWAGO_API_URL = url


def _start_apiwago(settings, kind: str) -> Protocol:
    http_server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    http_server.no_handler_status_code = 404
    server = apiwago_server.ApiWagoServer(server=http_server, require_login=False)
    server.install()
    http_server.start()
    settings.APIWAGO_API_URL, settings.APIWAGO_API_KEY = server.url, server.api_key
    return Protocol(
        server=server,
        read=_apiwago_read,
        accepted=apiwago_server.accept,
        refused_for_good=apiwago_server.not_registered,
        refused_for_now=apiwago_server.fail("client not logged in"),
        slow=apiwago_server.slow,
        incoming=_apiwago_incoming,
        status=_apiwago_status,
        point_at=_apiwago_point_at,
        http_server=http_server,
    )


# --- wonotify (docs/ARCHITECTURE.md; the Waziper shape of its webhooks) -------------------------


def _wonotify_read(received) -> Sent:
    params = received.params
    return Sent(
        token=str(params.get("access_token", "")),
        target=str(params.get("number") or params.get("group_id") or ""),
        text=str(params.get("message", "")),
        url=str(params.get("media_url", "")),
        filename=str(params.get("filename", "")),
    )


WONOTIFY_INSTANCE = "609ACF283XXXX"


def _wonotify_incoming(*, device_number: str, sender: str, text: str, message_id: str) -> bytes:
    message = {
        "key": {"remoteJid": f"{sender}@s.whatsapp.net", "fromMe": False, "id": message_id},
        "message": {"conversation": text},
        "messageTimestamp": 1_785_902_400,
        "pushName": "Budi",
    }
    return json.dumps(
        {
            "instance_id": WONOTIFY_INSTANCE,
            "data": {"event": "messages.upsert", "data": {"messages": [message], "type": "notify"}},
        }
    ).encode()


# Baileys' WAMessageStatus numbers.
WONOTIFY_STATUSES = {"failed": 0, "sent": 2, "delivered": 3, "read": 4}


def _wonotify_status(*, device_number: str, message_id: str, delivery: str) -> bytes:
    update = {
        "key": {"remoteJid": "6281234500001@s.whatsapp.net", "fromMe": True, "id": message_id},
        "update": {"status": WONOTIFY_STATUSES[delivery]},
    }
    return json.dumps(
        {"instance_id": WONOTIFY_INSTANCE, "data": {"event": "messages.update", "data": [update]}}
    ).encode()


def _wonotify_point_at(settings, url: str) -> None:
    settings.WONOTIFY_API_URL = f"{url}/api"


def _start_wonotify(settings, kind: str) -> Protocol:
    http_server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    http_server.no_handler_status_code = 404
    server = wonotify_server.WonotifyServer(server=http_server, access_token="wonotify-token")
    server.add_instance(WONOTIFY_INSTANCE, logged_in=True)
    server.install()
    http_server.start()
    settings.WONOTIFY_API_URL = server.url
    return Protocol(
        server=server,
        read=_wonotify_read,
        accepted=wonotify_server.accept,
        refused_for_good=wonotify_server.refuse(wonotify_server.QUOTA),
        refused_for_now=wonotify_server.refuse(wonotify_server.SESSION_MISSING),
        slow=wonotify_server.slow,
        incoming=_wonotify_incoming,
        status=_wonotify_status,
        point_at=_wonotify_point_at,
        device_fields={"gateway_instance": WONOTIFY_INSTANCE},
        http_server=http_server,
    )


PROTOCOLS: dict[str, Callable[[Any, str], Protocol]] = {
    "fonnte": _start_fonnte,
    "sandbox": _start_fonnte,
    "apiwago": _start_apiwago,
    "wonotify": _start_wonotify,
}
# What each gateway's status webhooks can report (ApiWago: WhatsApp receipts only; the send
# answer is its "sent").
DELIVERIES: dict[str, tuple[str, ...]] = {
    "fonnte": ("sent", "delivered", "read", "failed"),
    "sandbox": ("sent", "delivered", "read", "failed"),
    "apiwago": tuple(APIWAGO_RECEIPTS),
    "wonotify": tuple(WONOTIFY_STATUSES),
}

# The gateways whose webhooks report connection changes (ApiWago posts none; wonotify's are
# undocumented).
CONNECTION_EVENTS = ("fonnte", "sandbox")


@pytest.fixture(name="protocol_server")
def protocol_server_fixture(settings) -> Iterator[Callable[[str], Protocol]]:
    """Start a local server speaking the protocol of the gateway `kind` and point the adapter
    at it: `protocol = protocol_server("fonnte")`."""
    started: list[HTTPServer] = []

    def start(kind: str) -> Protocol:
        protocol = PROTOCOLS[kind](settings, kind)
        started.append(protocol.http_server)
        return protocol

    yield start
    for http_server in started:
        if http_server is not None and http_server.is_running():
            http_server.stop()
