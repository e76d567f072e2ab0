"""Who reaches the supervisor area, and where staff land (issue: supervision, step 1 and 2)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chats.models import Conversation
from tests.factories import ContactFactory, StaffFactory, UserFactory

from .conftest import agent_client, client_for

pytestmark = pytest.mark.django_db


def test_staff_land_on_the_board_from_home_login_and_inbox(desk):
    client = client_for(desk.superuser)
    for path in ("/", "/login", "/inbox"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == reverse("supervision:board"), path
    board = client.get(reverse("supervision:board"))
    assert board.status_code == 200
    assert 'ws-connect="/ws/staff/?board=1"' in board.content.decode()


def test_anonymous_is_sent_to_sign_in(desk):
    response = client_for_anonymous().get(reverse("supervision:board"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def client_for_anonymous():
    from django.test import Client

    return Client()


def test_agents_and_non_staff_users_get_403(desk):
    agent = agent_client("6281100000001", desk.ani.token)
    assert agent.get(reverse("supervision:board")).status_code == 403
    assert agent.get(reverse("supervision:reports")).status_code == 403
    plain = client_for(UserFactory())
    assert plain.get(reverse("supervision:board")).status_code == 403


def test_an_agent_still_lands_on_the_inbox(desk):
    agent = agent_client("6281100000001", desk.ani.token)
    assert agent.get("/").headers["Location"] == reverse("chats:inbox")
    assert agent.get("/inbox").status_code == 200


def test_a_staff_post_to_an_agent_endpoint_stays_403(desk):
    response = client_for(desk.superuser).post(reverse("agents:away"), {"away": "1"})
    assert response.status_code == 403


def test_board_shows_only_the_supervised_division(desk):
    sales_page = client_for(desk.sales_supervisor).get(reverse("supervision:board")).content
    assert b"Ani" in sales_page and b"Sales phone" in sales_page
    assert b"Citra" not in sales_page and b"Support phone" not in sales_page
    boss_page = client_for(desk.superuser).get(reverse("supervision:board")).content
    assert b"Ani" in boss_page and b"Citra" in boss_page


def test_staff_without_a_scope_row_see_every_division(desk):
    page = client_for(StaffFactory()).get(reverse("supervision:board")).content
    assert b"Ani" in page and b"Citra" in page


def test_other_divisions_are_404_on_every_path(desk):
    contact = ContactFactory(device=desk.support_device)
    conversation = Conversation.objects.create(
        contact=contact, device=desk.support_device, division=desk.support
    )
    client = client_for(desk.sales_supervisor)
    citra = desk.citra.agent.pk
    page = reverse("supervision:conversation", args=[conversation.pk])
    assert client.get(page).status_code == 404
    for name in ("agent_hand_back", "agent_away", "agent_end_sessions"):
        assert client.post(reverse(f"supervision:{name}", args=[citra])).status_code == 404
    for name in ("transfer", "take_over"):
        url = reverse(f"supervision:{name}", args=[conversation.pk])
        assert client.post(url, {"to_division": desk.sales.pk}).status_code == 404
    listing = client.get(reverse("supervision:conversations")).content
    assert contact.name.encode() not in listing
    own = client_for(desk.support_supervisor)
    assert own.get(page).status_code == 200


def test_first_response_and_resolution_are_read_only_in_the_admin(desk):
    contact = ContactFactory(device=desk.sales_device)
    conversation = Conversation.objects.create(
        contact=contact, device=desk.sales_device, division=desk.sales
    )
    page = client_for(desk.superuser).get(
        reverse("admin:chats_conversation_change", args=[conversation.pk])
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="first_response_at' not in html
    assert 'name="resolved_at' not in html


def test_the_board_and_reports_speak_indonesian(desk):
    client = client_for(desk.superuser)
    client.cookies["django_language"] = "id"
    board = client.get(reverse("supervision:board")).content.decode()
    assert "Antrean" in board and "Kembalikan semua" in board
    reports = client.get(reverse("supervision:reports")).content.decode()
    assert "Per divisi" in reports and "Jam tersibuk" in reports


def test_choosing_a_time_zone_keeps_the_access_and_refuses_unknown_zones(desk):
    from supervision.models import SupervisorScope

    lead = StaffFactory()
    client = client_for(lead)
    url = reverse("supervision:time_zone")
    response = client.post(url, {"time_zone": "Asia/Makassar", "next": "/supervision/reports"})
    assert response["Location"] == "/supervision/reports"
    row = SupervisorScope.objects.get(user=lead)
    assert (row.time_zone, row.all_divisions) == ("Asia/Makassar", True)
    assert (
        'value="Asia/Makassar" selected'
        in client.get(reverse("supervision:board")).content.decode()
    )
    client.post(url, {"time_zone": "Europe/Atlantis", "next": "https://evil.example/"})
    assert SupervisorScope.objects.get(user=lead).time_zone == "Asia/Makassar"
    limited = client_for(desk.sales_supervisor)
    limited.post(url, {"time_zone": "UTC"})
    row = SupervisorScope.objects.get(user=desk.sales_supervisor)
    assert (row.time_zone, row.all_divisions) == ("UTC", False)
