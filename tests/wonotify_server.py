"""A local HTTP server speaking wonotify's API (docs/ARCHITECTURE.md "wonotify's protocol"), for
tests.

Built on pytest-httpserver. Routes under `/api/` and its alias `/whatsapp_api/`; credentials
(`access_token`, `instance_id`) are read from the query or the JSON body, as the API page allows
both. Answers use the Waziper script's shapes and error words (`{"status": "success" |
"error", "message": …}`, HTTP 200 either way). Instances keep their state (created → QR →
logged in → logged out; reset gives a new id). Sends take the next scripted behaviour (the last
one repeats); every request is recorded.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.apiwago_server import PNG
from tests.gateway_server import free_port

ACCESS_TOKEN = "6881c11f741a1"
AUTH_FAILED = "The authentication process has failed"
INSTANCE_INVALID = "The Instance ID provided has been invalidated"
INSTANCE_MISSING = "The Instance ID must be provided for the process to be completed"
SESSION_MISSING = "The WhatsApp session could not be found in the system"
QUOTA = "The number of messages you have sent per month has exceeded the maximum limit"
LICENSE = "Whoop! The license provided is not valid, please contact the author for assistance"

_ids = itertools.count(1)
_instances = itertools.count(0x609ACF2830000)


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def error(message: str) -> Response:
    return _json({"status": "error", "message": message})


@dataclass
class Instance:
    logged_in: bool = False
    webhook: str = ""
    webhook_enabled: bool = False
    reboots: int = 0
    reconnects: int = 0


SendBehaviour = Callable[["WonotifyServer", dict], Response]


def accept(server: WonotifyServer, params: dict) -> Response:
    """Waziper's send answer: the Baileys message it sent, under `message`."""
    instance = server.instances.get(params.get("instance_id", ""))
    if instance is None or not instance.logged_in:
        return error(SESSION_MISSING)
    jid = params.get("group_id") or f"{params.get('number')}@s.whatsapp.net"
    return _json(
        {
            "status": "success",
            "message": {
                "key": {"remoteJid": jid, "fromMe": True, "id": f"BAE5{next(_ids):012X}"},
                "message": {"conversation": params.get("message", "")},
                "messageTimestamp": "1785902400",
                "status": "SUCCESS",
            },
        }
    )


def refuse(message: str) -> SendBehaviour:
    def handler(server: WonotifyServer, params: dict) -> Response:
        return error(message)

    return handler


def http_error(status: int) -> SendBehaviour:
    def handler(server: WonotifyServer, params: dict) -> Response:
        return Response("upstream trouble", status=status, content_type="text/plain")

    return handler


def slow(seconds: float, then: SendBehaviour = accept) -> SendBehaviour:
    def handler(server: WonotifyServer, params: dict) -> Response:
        time.sleep(seconds)
        return then(server, params)

    return handler


def garbled(server: WonotifyServer, params: dict) -> Response:
    return _json({"ok": 1})


@dataclass
class Received:
    path: str
    query: dict[str, str]
    json: Any

    @property
    def params(self) -> dict[str, Any]:
        return {**self.query, **(self.json if isinstance(self.json, dict) else {})}


@dataclass
class WonotifyServer:
    server: HTTPServer
    access_token: str = ACCESS_TOKEN
    instances: dict[str, Instance] = field(default_factory=dict)
    send_script: list[SendBehaviour] = field(default_factory=lambda: [accept])
    requests: list[Received] = field(default_factory=list)
    _sends: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}/api"

    def respond(self, *behaviours: SendBehaviour) -> None:
        self.send_script = list(behaviours)

    def add_instance(self, instance_id: str = "609ACF283XXXX", *, logged_in: bool = True) -> str:
        self.instances[instance_id] = Instance(logged_in=logged_in)
        return instance_id

    def made(self, name: str) -> list[Received]:
        return [r for r in self.requests if r.path.rsplit("/", 1)[-1] == name]

    # --- Routes ----------------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        received = Received(
            path=request.path, query=dict(request.args), json=request.get_json(silent=True)
        )
        with self._lock:
            self.requests.append(received)
        params = received.params
        operation = request.path.rsplit("/", 1)[-1]
        if params.get("access_token") != self.access_token:
            return error(AUTH_FAILED)
        if operation == "create_instance":
            instance_id = f"{next(_instances):X}"
            self.instances[instance_id] = Instance()
            return _json(
                {
                    "status": "success",
                    "message": "Instance ID generated successfully",
                    "instance_id": instance_id,
                }
            )
        instance_id = str(params.get("instance_id") or "")
        if not instance_id:
            return error(INSTANCE_MISSING)
        instance = self.instances.get(instance_id)
        if instance is None:
            return error(INSTANCE_INVALID)
        handler = getattr(self, f"op_{operation}", None)
        if handler is None:
            return Response("Not Found", status=404)
        return handler(instance_id, instance, params)

    def op_get_qrcode(self, instance_id: str, instance: Instance, params: dict) -> Response:
        if instance.logged_in:
            return error("It seems that you have logged in successfully")
        image = f"data:image/png;base64,{PNG}"
        return _json({"status": "success", "message": "Success", "base64": image})

    def op_reboot(self, instance_id: str, instance: Instance, params: dict) -> Response:
        instance.logged_in = False
        instance.reboots += 1
        return _json({"status": "success", "message": "Success"})

    def op_reset_instance(self, instance_id: str, instance: Instance, params: dict) -> Response:
        del self.instances[instance_id]
        new_id = f"{next(_instances):X}"
        self.instances[new_id] = Instance()
        return _json({"status": "success", "message": "Success", "instance_id": new_id})

    def op_reconnect(self, instance_id: str, instance: Instance, params: dict) -> Response:
        instance.reconnects += 1
        return _json({"status": "success", "message": "Success"})

    def op_logout(self, instance_id: str, instance: Instance, params: dict) -> Response:
        if not instance.logged_in:
            return error("This account seems to have logged out before.")
        instance.logged_in = False
        return _json({"status": "success", "message": "Success"})

    def op_set_webhook(self, instance_id: str, instance: Instance, params: dict) -> Response:
        instance.webhook = str(params.get("webhook_url") or "")
        instance.webhook_enabled = str(params.get("enable")).lower() == "true"
        return _json({"status": "success", "message": "Success"})

    def _send(self, instance_id: str, instance: Instance, params: dict) -> Response:
        with self._lock:
            number = self._sends
            self._sends += 1
            behaviour = self.send_script[min(number, len(self.send_script) - 1)]
        return behaviour(self, params)

    op_send = _send
    op_send_group = _send

    def install(self) -> None:
        for prefix in ("/api", "/whatsapp_api"):
            for operation in (
                "create_instance",
                "get_qrcode",
                "reboot",
                "reset_instance",
                "reconnect",
                "logout",
                "set_webhook",
                "send",
                "send_group",
            ):
                self.server.expect_request(f"{prefix}/{operation}").respond_with_handler(
                    self._handle
                )


@pytest.fixture(name="wonotify")
def wonotify_fixture(settings) -> Iterator[WonotifyServer]:
    """A running wonotify-speaking server; WONOTIFY_API_URL points at it.

    Import `wonotify_fixture` into a test module to use the `wonotify` fixture."""
    server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    server.no_handler_status_code = 404
    gateway = WonotifyServer(server=server)
    gateway.install()
    server.start()
    settings.WONOTIFY_API_URL = gateway.url
    yield gateway
    if server.is_running():
        server.stop()
