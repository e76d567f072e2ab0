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
