"""What the fault tests share: a browser-like HTTP session against a real Sapa server, and the
counts every fault test reports (stored, sent, lost, sent twice)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import httpx

from tests.fonnte import fixture, hook_url

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class AgentBrowser:
    """An agent's browser: signs in with device number + token, posts like htmx does."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.client = httpx.Client(base_url=base, timeout=30)

    def sign_in(self, device_number: str, token: str) -> httpx.Response:
        page = self.client.get("/login")
        csrf = _CSRF_INPUT.search(page.text).group(1)
        return self.client.post(
            "/login",
            data={"device_number": device_number, "token": token, "csrfmiddlewaretoken": csrf},
        )

    @property
    def session_cookie(self) -> str:
        return f"sessionid={self.client.cookies['sessionid']}"

    def reply(self, conversation_id: int, text: str) -> httpx.Response:
        return self.client.post(
            f"/inbox/c/{conversation_id}/send",
            data={"text": text},
            headers={"HX-Request": "true", "X-CSRFToken": self.client.cookies["csrftoken"]},
        )

    def close(self) -> None:
        self.client.close()


def admin_sign_in(base: str, username: str = "admin", password: str = "x") -> httpx.Response:
    """Post the admin's sign-in form (the credentials need not exist: the throttle runs first)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/admin/login/")
        csrf = _CSRF_INPUT.search(page.text).group(1)
        return client.post(
            "/admin/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
        )


def post_webhook(base: str, device, body: dict) -> httpx.Response:
    return httpx.post(base + hook_url(device, "incoming"), json=body, timeout=30)


def customer_message(number: int, *, attachment: bool = False, sender: str = "") -> dict:
    """A distinct incoming message (its own inboxid and text), with or without a file."""
    name = "incoming_attachment" if attachment else "incoming_private_captured"
    text = f"pesan {number}"
    body = fixture(name, message=text, pesan=text, inboxid=900000 + number)
    if sender:
        body.update(sender=sender, pengirim=sender)
    return body


@dataclass
class Counts:
    """Of `expected` distinct items: how many arrived once, never, more than once."""

    expected: int
    once: int
    lost: int
    twice: int

    @classmethod
    def of(cls, expected: list[str], arrived: list[str]) -> Counts:
        seen = Counter(arrived)
        return cls(
            expected=len(expected),
            once=sum(1 for item in expected if seen[item] == 1),
            lost=sum(1 for item in expected if seen[item] == 0),
            twice=sum(1 for item in expected if seen[item] > 1),
        )
