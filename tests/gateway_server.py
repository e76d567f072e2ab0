"""A local HTTP server speaking Fonnte's `/send` protocol (docs/ARCHITECTURE.md, "Fonnte's
protocol"), for tests.

Built on pytest-httpserver. Each request to `/send` takes the next scripted behaviour (the last
one repeats): accept with ids, refuse with a `reason`, answer an HTTP error, sleep, or block
until the test releases it. Every request is recorded (headers and JSON body).
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

Behaviour = Callable[[Request, int], Response]

_ids = itertools.count(80367170)


def accept(request: Request, number: int) -> Response:
    body = request.get_json(silent=True) or request.form
    return Response(
        json.dumps(
            {
                "detail": "success! message in queue",
                "id": [str(next(_ids))],
                "process": "pending",
                "requestid": 2937124 + number,
                "status": True,
                "target": [str(body.get("target", ""))],
            }
        ),
        content_type="application/json",
    )


def refuse(reason: str) -> Behaviour:
    def handler(request: Request, number: int) -> Response:
        # Fonnte spells the flag with a capital S on some failures.
        return Response(
            json.dumps({"Status": False, "reason": reason, "requestid": 2937124 + number}),
            content_type="application/json",
        )

    return handler


def http_error(status: int) -> Behaviour:
    def handler(request: Request, number: int) -> Response:
        return Response("upstream trouble", status=status, content_type="text/plain")

    return handler


def slow(seconds: float, then: Behaviour = accept) -> Behaviour:
    def handler(request: Request, number: int) -> Response:
        time.sleep(seconds)
        return then(request, number)

    return handler


@dataclass
class Received:
    headers: dict[str, str]
    json: dict
    at: float
    # A multipart body (a file by upload): its fields, and its files as (name, bytes).
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


@dataclass
class FonnteGateway:
    server: HTTPServer
    script: list[Behaviour] = field(default_factory=lambda: [accept])
    requests: list[Received] = field(default_factory=list)
    # Set when a request arrives; a `block` behaviour waits for `release`.
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def respond(self, *behaviours: Behaviour) -> None:
        self.script = list(behaviours)

    def block(self, request: Request, number: int) -> Response:
        """Hold the request open until the test sets `release` (then accept it)."""
        self.release.wait(timeout=120)
        return accept(request, number)

    def _handle(self, request: Request) -> Response:
        with self._lock:
            number = len(self.requests)
            self.requests.append(
                Received(
                    headers={key.lower(): value for key, value in request.headers.items()},
                    json=request.get_json(silent=True) or {},
                    at=time.monotonic(),
                    form=dict(request.form),
                    files={
                        key: (upload.filename or "", upload.read())
                        for key, upload in request.files.items()
                    },
                )
            )
            behaviour = self.script[min(number, len(self.script) - 1)]
        self.arrived.set()
        return behaviour(request, number)

    def install(self, prefix: str = "") -> None:
        """Answer `<prefix>/send` (the sandbox adapter posts to /sandbox/fonnte/send)."""
        self.server.expect_request(f"{prefix}/send", method="POST").respond_with_handler(
            self._handle
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(name="gateway")
def gateway_fixture(settings) -> Iterator[FonnteGateway]:
    """A running Fonnte-speaking gateway; FONNTE_API_URL points at it.

    Import `gateway_fixture` into a test module to use the `gateway` fixture."""
    server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    gw = FonnteGateway(server=server)
    gw.install()
    server.start()
    settings.FONNTE_API_URL = gw.url
    yield gw
    gw.release.set()
    if server.is_running():
        server.stop()
