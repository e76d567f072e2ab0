from __future__ import annotations

import pytest
import redis
from django.conf import settings

from agents.services import agent_create
from tests.factories import DeviceFactory


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
