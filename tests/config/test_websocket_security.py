"""The WebSocket handshake: same origin (scheme, host and port) or a trusted origin, also with
DJANGO_ALLOWED_HOSTS=*; a socket to an unknown path is refused quietly (docs/SECURITY.md)."""

from __future__ import annotations

import logging

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


def _agent_cookie(agent) -> bytes:
    client = Client()
    response = client.post(
        reverse("agents:login"), {"device_number": agent.agent.device.number, "token": agent.token}
    )
    assert response.status_code == 302
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _connects(path: str, *, origin: str, host: str | None, scheme="ws", cookie=b"") -> bool:
    headers = [(b"origin", origin.encode())]
    if host is not None:
        headers.append((b"host", host.encode()))
    if cookie:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    communicator.scope["scheme"] = scheme
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return connected


@pytest.fixture
def cookie(sales_agents):
    return _agent_cookie(sales_agents[0])


@pytest.mark.parametrize(
    ("origin", "host", "scheme", "allowed"),
    [
        ("http://localhost:8000", "localhost:8000", "ws", True),
        ("https://localhost", "localhost", "wss", True),
        ("http://localhost:9999", "localhost:8000", "ws", False),  # another port
        ("https://localhost:8000", "localhost:8000", "ws", False),  # another scheme
        ("http://localhost", "localhost", "wss", False),  # an http page on a TLS socket
        ("http://evil.example", "localhost:8000", "ws", False),
        ("null", "localhost:8000", "ws", False),
    ],
)
async def test_origin_must_match_scheme_host_and_port(cookie, origin, host, scheme, allowed):
    assert await _connects(
        "/ws/agent/", origin=origin, host=host, scheme=scheme, cookie=cookie
    ) is (allowed)


async def test_allowed_hosts_star_does_not_accept_every_origin(settings, cookie):
    settings.ALLOWED_HOSTS = ["*"]
    assert not await _connects(
        "/ws/agent/",
        origin="https://evil.example",
        host="desk.example",
        scheme="wss",
        cookie=cookie,
    )
    assert not await _connects(
        "/ws/agent/", origin="https://evil.example", host=None, scheme="wss", cookie=cookie
    )
    assert await _connects(
        "/ws/agent/",
        origin="https://desk.example",
        host="desk.example",
        scheme="wss",
        cookie=cookie,
    )


async def test_public_base_url_behind_a_tls_proxy_is_trusted(settings, cookie):
    # The proxy speaks plain ws to Uvicorn; the page is https://desk.example.
    settings.CSRF_TRUSTED_ORIGINS = ["https://desk.example"]
    assert await _connects(
        "/ws/agent/", origin="https://desk.example", host="localhost:8000", cookie=cookie
    )


async def test_anonymous_socket_to_an_unknown_path_is_refused_without_an_error(caplog):
    caplog.set_level(logging.INFO)
    assert not await _connects("/ws/nothing-here/", origin="http://localhost", host="localhost")
    assert not await _connects("/favicon.ico", origin="http://localhost", host="localhost")
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
