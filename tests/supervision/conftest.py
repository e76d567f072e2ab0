"""Two divisions with their own device, agents and supervisor (tests/supervision/)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from agents.services import agent_create
from supervision.models import SupervisorScope
from tests.factories import DeviceFactory, DivisionFactory, StaffFactory


@dataclass
class Desk:
    sales: object
    support: object
    sales_device: object
    support_device: object
    ani: object  # Sales agent (AgentWithToken)
    citra: object  # Support agent
    sales_supervisor: object
    support_supervisor: object
    superuser: object


def supervisor_of(*divisions, username: str):
    user = StaffFactory(username=username)
    scope = SupervisorScope.objects.create(user=user, all_divisions=False)
    scope.divisions.set(divisions)
    return user


@pytest.fixture
def desk(db) -> Desk:
    sales = DivisionFactory(name="Sales", online_only=False)
    support = DivisionFactory(name="Support", online_only=False)
    sales_device = DeviceFactory(number="6281100000001", name="Sales phone", division=sales)
    support_device = DeviceFactory(number="6281100000002", name="Support phone", division=support)
    ani = agent_create(name="Ani", device=sales_device, division=sales, token="sapa_test-ani")
    citra = agent_create(
        name="Citra", device=support_device, division=support, token="sapa_test-citra"
    )
    superuser = StaffFactory(username="boss", is_superuser=True)
    return Desk(
        sales=sales,
        support=support,
        sales_device=sales_device,
        support_device=support_device,
        ani=ani,
        citra=citra,
        sales_supervisor=supervisor_of(sales, username="sales-lead"),
        support_supervisor=supervisor_of(support, username="support-lead"),
        superuser=superuser,
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def agent_client(number: str, token: str) -> Client:
    client = Client()
    response = client.post("/login", {"device_number": number, "token": token})
    assert response.status_code == 302
    return client
