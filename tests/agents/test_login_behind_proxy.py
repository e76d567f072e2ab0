"""Login throttling behind a reverse proxy, through the real server: Uvicorn takes the client
address from X-Forwarded-For only when the connection comes from a trusted proxy
(FORWARDED_ALLOW_IPS), and django-axes locks a device number per client address. So one
client behind the proxy cannot lock a device for everyone else, and a client that connects
directly cannot pick its address by sending the header."""

from __future__ import annotations

import re

import httpx
import pytest
from django.conf import settings

from tests.servers import uvicorn_server
from tests.workers import database_url_of_tests

pytestmark = pytest.mark.django_db(transaction=True)

FAILURE_LIMIT = 3


def _server_env(trusted: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url_of_tests(),
        "REDIS_URL": settings.REDIS_URL,
        "LOGIN_FAILURE_LIMIT": str(FAILURE_LIMIT),
        "FORWARDED_ALLOW_IPS": trusted,
        "LOG_LEVEL": "WARNING",
    }


def _login(base: str, token: str, *, client_ip: str) -> int:
    with httpx.Client(base_url=base, headers={"X-Forwarded-For": client_ip}) as client:
        page = client.get("/login")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = client.post(
            "/login",
            data={"device_number": "081100000001", "token": token, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{base}/login"},
        )
    return answer.status_code


def _lock_out(base: str, client_ip: str) -> None:
    for _ in range(FAILURE_LIMIT):
        _login(base, "sapa_wrong", client_ip=client_ip)


def test_behind_a_trusted_proxy_one_client_cannot_lock_a_device_for_others(agent_with_token):
    with uvicorn_server(_server_env(trusted="127.0.0.1")) as (base, _log):
        _lock_out(base, client_ip="203.0.113.7")
        assert _login(base, agent_with_token.token, client_ip="203.0.113.7") == 429
        # Another customer-facing agent behind the same proxy still gets in.
        assert _login(base, agent_with_token.token, client_ip="198.51.100.20") == 302


def test_a_direct_client_cannot_choose_its_address_with_the_header(agent_with_token):
    # The proxy list does not include this connection's address: the header is ignored, so
    # changing it after a lockout does not escape it.
    with uvicorn_server(_server_env(trusted="10.9.9.9")) as (base, _log):
        _lock_out(base, client_ip="203.0.113.7")
        assert _login(base, agent_with_token.token, client_ip="198.51.100.20") == 429


def test_https_is_believed_only_from_a_trusted_proxy(agent_with_token):
    env = {**_server_env(trusted="127.0.0.1"), "PUBLIC_BASE_URL": "https://127.0.0.1"}
    with uvicorn_server(env) as (base, _log):
        proxied = httpx.get(f"{base}/login", headers={"X-Forwarded-Proto": "https"})
        assert proxied.headers["Strict-Transport-Security"] == "max-age=31536000"
    env = {**_server_env(trusted="10.9.9.9"), "PUBLIC_BASE_URL": "https://127.0.0.1"}
    with uvicorn_server(env) as (base, _log):
        direct = httpx.get(f"{base}/login", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in direct.headers
