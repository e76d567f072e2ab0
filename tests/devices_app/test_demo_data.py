from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from agents.models import Agent, User
from devices_app.models import Device
from divisions.models import Division
from templates_app.models import Poll, QuickReply

pytestmark = pytest.mark.django_db


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Device, Division, Agent, User, QuickReply, Poll)
    }


def test_demo_data_loads_once_and_a_second_run_reuses_it(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("demo_data", stdout=out)
    first = counts()
    assert first == {"Device": 2, "Division": 2, "Agent": 4, "User": 5, "QuickReply": 3, "Poll": 1}
    assert set(Division.objects.values_list("rotation_mode", flat=True)) == {"full", "partial"}
    call_command("demo_data", stdout=io.StringIO())
    assert counts() == first
    assert "demo-ani-token" in out.getvalue()


def test_printed_demo_login_works(settings, client):
    settings.DEBUG = True
    call_command("demo_data", stdout=io.StringIO())
    response = client.post(
        reverse("agents:login"), {"device_number": "081100000001", "token": "demo-ani-token"}
    )
    assert response.status_code == 302
    admin = client.post(reverse("admin:login"), {"username": "admin", "password": "sapa-admin"})
    assert admin.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_demo_data_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("demo_data", stdout=io.StringIO())
    assert counts()["Agent"] == 0
