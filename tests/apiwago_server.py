"""A local HTTP server speaking ApiWago's API (docs/ARCHITECTURE.md "ApiWago's protocol"), for
tests.

Built on pytest-httpserver. It keeps sessions the way the gateway does (a token is a session:
started → QR → logged in → logged out), checks the `apikey` header on protected routes
(401 `{"error": "unauthorized"}`), answers Gin's plain 404 for unknown paths, and answers each
route with the gateway's own shapes and error words (internal/api/handlers.go). Sends take the
next scripted behaviour (the last one repeats); every request is recorded.
"""

from __future__ import annotations

import base64
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

from tests.gateway_server import free_port

API_KEY = "apiwago-test-key"
# A 1×1 PNG: what a QR looks like to Sapa (it only passes the data URL on).
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63f8cfc0f01f0005000201e5d8d2a50000000049454e44ae426082"
    )
).decode()

_ids = itertools.count(1)


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


@dataclass
class Session:
    started: bool = False
    logged_in: bool = False
    qr_ready: bool = True
    webhook: str = ""
    name: str = ""
    phone: str = ""
    reject_call: str = ""
    reject_message: str = ""
    reject_exclude_phone: list[str] = field(default_factory=list)


SendBehaviour = Callable[["ApiWagoServer", dict, str], Response]


def accept(server: ApiWagoServer, body: dict, path: str) -> Response:
    """What the gateway answers for a delivered send; refuses a session that is not logged in
    exactly as it does (unless the test turned `require_login` off)."""
    session = server.sessions.get(str(body.get("token")))
    if server.require_login and (session is None or not session.logged_in):
        return fail("client not logged in")(server, body, path)
    message_id = f"3EB0{next(_ids):016X}"
    return _json(
        {
            "status": True,
            "phone": body.get("phone"),
            "message": "Terkirim",
            "data": {"id": message_id, "status": True},
        }
    )


def not_registered(server: ApiWagoServer, body: dict, path: str) -> Response:
    # HTTP 200, status false, token echoed, data an empty list (handlers.go SendMessageHandler).
    return _json(
        {
            "status": False,
            "token": body.get("token"),
            "phone": body.get("phone"),
            "message": "Belum Terdaftar",
            "data": [],
        }
    )


def fail(error: str) -> SendBehaviour:
    """A 500 with the gateway's error text: `/api/send` says it in `message`, the poll route in
    `error` (with `status: false`)."""

    def handler(server: ApiWagoServer, body: dict, path: str) -> Response:
        if path == "/api/send":
            return _json({"status": False, "message": error}, status=500)
        return _json({"error": error, "status": False}, status=500)

    return handler


def http_error(status: int, text: str = "upstream trouble") -> SendBehaviour:
    def handler(server: ApiWagoServer, body: dict, path: str) -> Response:
        return Response(text, status=status, content_type="text/plain")

    return handler


def slow(seconds: float, then: SendBehaviour = accept) -> SendBehaviour:
    def handler(server: ApiWagoServer, body: dict, path: str) -> Response:
        time.sleep(seconds)
        return then(server, body, path)

    return handler


def garbled(server: ApiWagoServer, body: dict, path: str) -> Response:
    return Response("<html>proxy says hi</html>", status=200, content_type="text/html")


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    json: Any


@dataclass
class ApiWagoServer:
    server: HTTPServer
    api_key: str = API_KEY
    require_login: bool = True
    sessions: dict[str, Session] = field(default_factory=dict)
    send_script: list[SendBehaviour] = field(default_factory=lambda: [accept])
    requests: list[Received] = field(default_factory=list)
    _sends: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    # --- Test controls ---------------------------------------------------------------------------

    def respond(self, *behaviours: SendBehaviour) -> None:
        self.send_script = list(behaviours)

    def scan(self, token: str, *, phone: str = "6287700000001", name: str = "Toko Sapa") -> None:
        """The phone scanned the QR: the session is logged in."""
        session = self.sessions.setdefault(token, Session())
        session.started = session.logged_in = True
        session.phone, session.name = phone, name

    def session(self, token: str) -> Session:
        return self.sessions.setdefault(token, Session())

    def sent(self, path: str = "/api/send") -> list[Received]:
        return [request for request in self.requests if request.path == path]

    # --- The routes ------------------------------------------------------------------------------

    def _record(self, request: Request) -> Any:
        body = request.get_json(silent=True)
        with self._lock:
            self.requests.append(
                Received(
                    method=request.method,
                    path=request.path,
                    headers={key.lower(): value for key, value in request.headers.items()},
                    query=dict(request.args),
                    json=body,
                )
            )
        return body

    def _protected(self, handler: Callable[[Request, Any], Response]):
        def wrapped(request: Request) -> Response:
            body = self._record(request)
            if request.headers.get("apikey") != self.api_key:
                return _json({"error": "unauthorized"}, status=401)
            return handler(request, body)

        return wrapped

    def _open(self, handler: Callable[[Request, Any], Response]):
        def wrapped(request: Request) -> Response:
            return handler(request, self._record(request))

        return wrapped

    @staticmethod
    def _bind(request: Request, body: Any) -> dict | Response:
        # Gin's ShouldBindJSON: an empty body is "EOF", anything not an object a bind error.
        if not request.get_data():
            return _json({"error": "EOF"}, status=400)
        if not isinstance(body, dict):
            return _json({"error": "invalid character in JSON body"}, status=400)
        return body

    def _status_shape(self, session: Session, *, authenticated_message: bool = False) -> dict:
        if session.logged_in:
            return {
                "status": True,
                "message": "AUTHENTICATED",
                "pic": "https://pps.whatsapp.net/v/t61/profile.jpg",
                "name": session.name,
                "phone": session.phone,
                "data": {
                    "id": f"{session.phone}:12@s.whatsapp.net",
                    "lid": "",
                    "name": session.name,
                },
            }
        return {
            "status": False,
            "message": "DISCONNECTED",
            "pic": "",
            "name": "",
            "phone": "",
            "data": None,
        }

    def start(self, request: Request, body: Any) -> Response:
        body = self._bind(request, body)
        if isinstance(body, Response):
            return body
        token = str(body.get("token") or "")
        if not token:
            return _json({"error": "token is required"}, status=400)
        session = self.session(token)
        session.started = True
        session.reject_call = str(body.get("reject_call") or "")
        session.reject_message = str(body.get("reject_message") or "")
        session.reject_exclude_phone = list(body.get("reject_exclude_phone") or [])
        return _json({"status": True, "message": "Session started"})

    def qrcode(self, request: Request, body: Any) -> Response:
        body = self._bind(request, body)
        if isinstance(body, Response):
            return body
        token = str(body.get("token") or "")
        if not token:
            return _json({"error": "token is required"}, status=400)
        session = self.session(token)
        if session.logged_in:
            return _json(self._status_shape(session))
        if not session.started:
            return _json({"error": "not_connected"}, status=500)
        if not session.qr_ready:
            return _json({"error": "waiting_for_qr"}, status=500)
        return _json({"status": True, "qrcode": f"data:image/png;base64,{PNG}"})

    def pair(self, request: Request, body: Any) -> Response:
        body = self._bind(request, body)
        if isinstance(body, Response):
            return body
        session = self.session(str(body.get("token") or ""))
        if session.logged_in:
            return _json({"error": "already logged in"}, status=500)
        session.started = True
        return _json({"code": "K7QF-2M9X"})

    def status(self, request: Request, body: Any) -> Response:
        token = str((body or {}).get("token") or "") or request.args.get("token", "")
        if not token:
            return _json({"error": "token is required"}, status=400)
        return _json(self._status_shape(self.session(token)))

    def logout(self, request: Request, body: Any) -> Response:
        token = request.args.get("token", "")
        if not token:
            return _json({"error": "token is required"}, status=400)
        session = self.session(token)
        if not session.logged_in:
            return _json({"error": "not logged in"}, status=500)
        session.logged_in = session.started = False
        return _json({"status": "logged_out"})

    def reconnect(self, request: Request, body: Any) -> Response:
        token = request.args.get("token", "")
        if not token:
            return _json({"error": "token is required"}, status=400)
        session = self.session(token)
        if not session.started and not session.logged_in:
            return _json({"error": "failed to connect: websocket: bad handshake"}, status=500)
        return _json({"status": "reconnected"})

    def delete_device(self, request: Request, body: Any) -> Response:
        token = request.args.get("token", "")
        if not token:
            return _json({"error": "token required"}, status=400)
        self.sessions.pop(token, None)
        return _json({"status": "deleted"})

    def webhook(self, request: Request, body: Any) -> Response:
        body = self._bind(request, body)
        if isinstance(body, Response):
            return body
        token = body.get("token")
        if not isinstance(token, str) or not token:
            # UpdateWebhookRequest.Token is a plain string: a number fails to bind.
            return _json({"error": "token is required"}, status=400)
        self.session(token).webhook = str(body.get("url") or "")
        return _json({"status": "updated", "url": body.get("url")})

    def devices(self, request: Request, body: Any) -> Response:
        page = int(request.args.get("page", "1") or 1)
        limit = int(request.args.get("limit", "10") or 10)
        search = request.args.get("q", "")
        rows = [
            {
                "token": token,
                "jid": f"{session.phone}:12@s.whatsapp.net" if session.logged_in else "",
                "name": session.name,
                "webhook": session.webhook,
                "workspace": "",
            }
            for token, session in sorted(self.sessions.items())
            if search in token or search in session.name
        ]
        window = rows[(page - 1) * limit : page * limit]
        return _json({"data": window, "total": len(rows), "page": page, "limit": limit})

    def send(self, request: Request, body: Any) -> Response:
        body = self._bind(request, body)
        if isinstance(body, Response):
            return body
        if not body.get("token"):
            return _json({"error": "token is required"}, status=400)
        if request.path == "/api/send" and not body.get("phone"):
            return _json({"error": "phone is required"}, status=400)
        if request.path == "/api/send-poll" and not body.get("phone"):
            return _json({"error": "token and phone are required"}, status=400)
        with self._lock:
            number = self._sends
            self._sends += 1
            behaviour = self.send_script[min(number, len(self.send_script) - 1)]
        return behaviour(self, body, request.path)

    def install(self) -> None:
        server, protected, public = self.server, self._protected, self._open
        server.expect_request("/api/start", method="POST").respond_with_handler(
            protected(self.start)
        )
        for method in ("GET", "POST"):
            server.expect_request("/api/qrcode", method=method).respond_with_handler(
                protected(self.qrcode)
            )
            server.expect_request("/api/status", method=method).respond_with_handler(
                protected(self.status)
            )
        server.expect_request("/api/pair", method="POST").respond_with_handler(public(self.pair))
        server.expect_request("/api/logout", method="POST").respond_with_handler(
            protected(self.logout)
        )
        server.expect_request("/api/reconnect", method="POST").respond_with_handler(
            protected(self.reconnect)
        )
        server.expect_request("/api/device", method="DELETE").respond_with_handler(
            protected(self.delete_device)
        )
        server.expect_request("/api/webhook", method="POST").respond_with_handler(
            protected(self.webhook)
        )
        server.expect_request("/api/devices", method="GET").respond_with_handler(
            protected(self.devices)
        )
        for path in ("/api/send", "/api/send-poll"):
            server.expect_request(path, method="POST").respond_with_handler(protected(self.send))


@pytest.fixture(name="apiwago")
def apiwago_fixture(settings) -> Iterator[ApiWagoServer]:
    """A running ApiWago-speaking server; APIWAGO_API_URL / APIWAGO_API_KEY point at it.

    Import `apiwago_fixture` into a test module to use the `apiwago` fixture."""
    server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    # Gin answers an unknown route 404 (pytest-httpserver's default would be 500).
    server.no_handler_status_code = 404
    gateway = ApiWagoServer(server=server)
    gateway.install()
    server.start()
    settings.APIWAGO_API_URL = gateway.url
    settings.APIWAGO_API_KEY = gateway.api_key
    yield gateway
    if server.is_running():
        server.stop()
