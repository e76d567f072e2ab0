"""The quick-reply admin's location: typed with a decimal comma ("-6,2088", as Indonesian admins
write numbers) or pasted as a "latitude, longitude" pair from a map, through the real admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from templates_app.models import QuickReply
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/templates_app/quickreply/add/"


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    return client


def add(client: Client, **location) -> object:
    return client.post(
        ADD_URL,
        {"shortcut": "shop", "title": "Our shop", "text": "We are here.", "is_active": "on"}
        | location,
    )


def test_location_fields_are_text_boxes_for_decimal_input(admin_client):
    page = admin_client.get(ADD_URL).content.decode()
    assert 'name="location_lat"' in page
    assert 'type="number"' not in page
    assert 'inputmode="decimal"' in page


def test_decimal_commas_are_read(admin_client):
    response = add(admin_client, location_lat="-6,2088", location_lng="106,8456")
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = QuickReply.objects.get()
    assert (saved.location_lat, saved.location_lng) == (Decimal("-6.2088"), Decimal("106.8456"))


@pytest.mark.parametrize(
    "pasted",
    [
        "-6.175392, 106.827153",
        "-6.175392,106.827153",
        "-6,175392; 106,827153",
        "-6.17539212345678, 106.82715298765432",
    ],
)
def test_a_pair_pasted_into_latitude_fills_both(admin_client, pasted):
    response = add(admin_client, location_lat=pasted, location_lng="")
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = QuickReply.objects.get()
    assert (saved.location_lat, saved.location_lng) == (
        Decimal("-6.175392"),
        Decimal("106.827153"),
    )


@pytest.mark.parametrize("lat", ["-91", "abc", "-6,2,3", "NaN", "1e100"])
def test_a_bad_latitude_is_refused_and_nothing_is_saved(admin_client, lat):
    response = add(admin_client, location_lat=lat, location_lng="106.8")
    assert response.status_code == 200
    assert QuickReply.objects.count() == 0
    assert response.context["adminform"].form.errors["location_lat"]
