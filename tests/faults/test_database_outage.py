"""The database unreachable under a real Uvicorn: webhooks answer 503 (so the gateway retries),
nothing is half-written, and the retries store each message once.

On PostgreSQL the network to the server is cut (a TCP proxy between Sapa and PostgreSQL resets
every connection and refuses new ones). On SQLite another process holds the write lock
(`BEGIN EXCLUSIVE`) past Sapa's busy timeout, the way a stuck writer blocks a SQLite site.
(docs/RELIABILITY.md "Redis and database outages")
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection

from chats.models import Contact, Conversation, Message
from tests.factories import DeviceFactory, DivisionFactory
from tests.faults.support import Counts, customer_message, post_webhook
from tests.faults.tcp_proxy import TcpProxy
from tests.fonnte import FIXTURE_DEVICE_NUMBER
from tests.servers import uvicorn_server
from tests.workers import database_url_of_tests

pytestmark = pytest.mark.django_db(transaction=True)


class Outage:
    """Turns the database away from the server under test, and back."""

    def __init__(self) -> None:
        self.env: dict[str, str] = {"DATABASE_URL": database_url_of_tests()}
        self._proxy: TcpProxy | None = None
        self._lock: sqlite3.Connection | None = None
        if connection.vendor == "postgresql":
            sd = connection.settings_dict
            self._proxy = TcpProxy((sd["HOST"] or "127.0.0.1", int(sd["PORT"] or 5432)))
            url = database_url_of_tests()
            host_port = f"{sd['HOST'] or '127.0.0.1'}:{sd['PORT'] or 5432}"
            self.env = {
                "DATABASE_URL": url.replace(host_port, f"127.0.0.1:{self._proxy.port}"),
                "DATABASE_POOL_MIN": "1",
                "DATABASE_POOL_MAX": "4",
                "DATABASE_POOL_TIMEOUT": "2",
            }
        else:
            self.env["DATABASE_BUSY_TIMEOUT"] = "1"

    def begin(self) -> None:
        if self._proxy is not None:
            self._proxy.cut()
        else:
            self._lock = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
            self._lock.execute("BEGIN EXCLUSIVE")

    def end(self) -> None:
        if self._proxy is not None:
            self._proxy.restore()
        elif self._lock is not None:
            self._lock.execute("ROLLBACK")
            self._lock.close()
            self._lock = None

    def close(self) -> None:
        self.end()
        if self._proxy is not None:
            self._proxy.close()


@contextlib.contextmanager
def outage() -> Iterator[Outage]:
    it = Outage()
    try:
        yield it
    finally:
        it.close()


def customer(number: int) -> dict:
    """A new customer each time: a webhook that is stored creates a contact, a conversation,
    a message and an assignment together, so a half-written one would show as a lone row."""
    return customer_message(number, sender=f"62821000{number:05d}")


def test_database_unreachable_webhooks_answer_503_and_retries_store_each_once():
    device = DeviceFactory(
        number=FIXTURE_DEVICE_NUMBER, division=DivisionFactory(name="Sales", online_only=False)
    )
    bodies = [customer(n) for n in range(8)]
    before, during = bodies[:3], bodies[3:]
    with (
        outage() as db,
        uvicorn_server(
            {
                "DJANGO_SETTINGS_MODULE": "config.test_settings",
                "REDIS_URL": settings.REDIS_URL,
                "LOG_LEVEL": "WARNING",
                **db.env,
            }
        ) as (base, log),
    ):
        assert [post_webhook(base, device, body).status_code for body in before] == [200] * 3

        db.begin()
        refused = [post_webhook(base, device, body) for body in during]
        db.end()
        assert [r.status_code for r in refused] == [503] * len(during), log.read_text()
        assert all(r.headers["Retry-After"] for r in refused)
        assert refused[0].json() == {
            "ok": False,
            "error": "database unavailable: not stored, retry later",
        }
        # Nothing half-written: only what was stored before the outage exists.
        assert (Contact.objects.count(), Conversation.objects.count()) == (3, 3)
        assert Message.objects.count() == 3

        # The gateway retries what was not answered 200 (and, as gateways do, one that was).
        retried = [post_webhook(base, device, body).status_code for body in [*during, before[0]]]
        assert retried == [200] * (len(during) + 1)

    stored = Counts.of(
        [body["message"] for body in bodies],
        list(Message.objects.values_list("text", flat=True)),
    )
    print(f"\nrefused during the outage: {len(refused)}; stored: {stored}")
    assert (stored.lost, stored.twice, stored.once) == (0, 0, len(bodies))
    assert Contact.objects.count() == Conversation.objects.count() == len(bodies)
