from __future__ import annotations

import pytest
import redis
from django.conf import settings

from agents.services import agent_create
from tests.factories import DeviceFactory


def pytest_configure(config):
    """On PostgreSQL the test process runs every async test on its own event loop, whose
    executor threads end with the test; connections those threads took from the pool are not
    all returned, and with the production size (20) the pool runs dry part-way through the
    suite (later tests wait out the pool timeout). The test process gets room for the whole
    suite; the servers and workers the tests start keep the production size."""
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    if isinstance(pool, dict):
        pool["max_size"] = 60


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with an empty Redis (`make test` gives the suite a private server)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield
    client.close()


@pytest.fixture
def device(db):
    return DeviceFactory(number="6281100000001")


@pytest.fixture
def agent_with_token(db, device):
    """An agent made through the real service, with its clear token."""
    return agent_create(
        name="Ani", device=device, division=device.division, token="sapa_test-token-ani"
    )


@pytest.fixture
def fonnte_device(db):
    """The device the captured Fonnte bodies are addressed to, routing to a division whose
    agents receive chats without having to be online (rotation eligibility is tested there)."""
    from tests.factories import DivisionFactory

    division = DivisionFactory(name="Sales", online_only=False)
    return DeviceFactory(number="6287700000001", division=division)


@pytest.fixture
def sales_agents(fonnte_device):
    """Two agents of the device's division, logged in through the real service."""
    return [
        agent_create(
            name=name,
            device=fonnte_device,
            division=fonnte_device.division,
            token=f"sapa_test-token-{name.lower()}",
        )
        for name in ("Ani", "Budi")
    ]
