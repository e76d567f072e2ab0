"""An agent's workspace preferences: the header's bell (mute), the time zone (the preferences
menu and page, the admin), and the middleware that renders their pages in that zone."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from agents.services import agent_time_zone_set
from chats.models import Conversation, Message
from tests.chats.test_live_inbound import open_socket
from tests.factories import ContactFactory, ConversationFactory, StaffFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def logged_in(agent_with_token, *, enforce_csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    csrf = client.get(reverse("agents:login")).cookies["csrftoken"].value
    response = client.post(
        reverse("agents:login"),
        {
            "device_number": agent_with_token.agent.device.number,
            "token": agent_with_token.token,
            "csrfmiddlewaretoken": csrf,
        },
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def ani(sales_agents):
    return sales_agents[0]


@pytest.fixture
def budi(sales_agents):
    return sales_agents[1]


# --- Mute -------------------------------------------------------------------------------------


def test_the_bell_mutes_and_unmutes_the_agent(ani, budi):
    client = logged_in(ani)
    response = client.post(reverse("agents:mute"), {"muted": "1"}, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="mute-switch"' in html and 'data-muted="1"' in html
    assert 'aria-pressed="true"' in html and 'aria-label="Mute notifications"' in html
    assert Agent.objects.get(pk=ani.agent.pk).notifications_muted is True
    assert Agent.objects.get(pk=budi.agent.pk).notifications_muted is False, "only their own"

    response = client.post(reverse("agents:mute"), {"muted": "0", "next": "/inbox?tab=queue"})
    assert response.status_code == 302 and response["Location"] == "/inbox?tab=queue"
    assert Agent.objects.get(pk=ani.agent.pk).notifications_muted is False


def test_the_inbox_header_shows_the_bell_state_and_the_controls(ani):
    Agent.objects.filter(pk=ani.agent.pk).update(notifications_muted=True)
    html = logged_in(ani).get(reverse("chats:inbox")).content.decode()
    assert 'data-muted="1"' in html and 'aria-pressed="true"' in html
    assert 'id="notify-enable"' in html and 'id="prefs-menu"' in html
    assert "js/notify.js" in html and "css/notify.css" in html


def test_the_header_offers_indonesias_zones_and_the_agents_own(ani):
    Agent.objects.filter(pk=ani.agent.pk).update(time_zone="Europe/Berlin")
    html = logged_in(ani).get(reverse("chats:inbox")).content.decode()
    assert '<option value="Asia/Jayapura">' in html
    assert '<option value="Europe/Berlin" selected>' in html
    # The full list (~600) is on the preferences page only, one link away.
    assert "Africa/Abidjan" not in html
    assert "More time zones" in html and reverse("agents:preferences") in html


def test_the_bell_refuses_a_bad_value_and_changes_nothing(ani):
    response = logged_in(ani).post(reverse("agents:mute"), {"muted": "yes"})
    assert response.status_code == 400
    assert "muted=1" in response.content.decode()
    assert Agent.objects.get(pk=ani.agent.pk).notifications_muted is False


def test_the_bell_needs_the_csrf_token(ani):
    client = logged_in(ani, enforce_csrf_checks=True)
    assert client.post(reverse("agents:mute"), {"muted": "1"}, **HX).status_code == 403
    assert Agent.objects.get(pk=ani.agent.pk).notifications_muted is False
    # With the token the page's form carries, the same post goes through.
    page = client.get(reverse("chats:inbox")).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    data = {"muted": "1", "csrfmiddlewaretoken": token}
    assert client.post(reverse("agents:mute"), data, **HX).status_code == 200
    assert Agent.objects.get(pk=ani.agent.pk).notifications_muted is True


def test_the_bell_is_for_agents_only(client):
    response = client.post(reverse("agents:mute"), {"muted": "1"})
    assert response.status_code == 302 and "/login" in response["Location"]
    client.force_login(StaffFactory())
    assert client.post(reverse("agents:mute"), {"muted": "1"}).status_code == 403
    assert client.post(reverse("agents:preferences"), {"time_zone": "UTC"}).status_code == 403
    assert client.get(reverse("agents:mute")).status_code == 405


# --- Time zone --------------------------------------------------------------------------------


def test_agents_start_in_the_desks_time_zone(ani, settings):
    assert ani.agent.time_zone == settings.TIME_ZONE == "Asia/Jakarta"


def test_the_agent_sets_their_time_zone(ani):
    client = logged_in(ani)
    page = client.get(reverse("agents:preferences")).content.decode()
    assert '<option value="Asia/Makassar"' in page and "Central Indonesia (WITA)" in page
    main = page.split('<main id="main"', 1)[1]  # the header's menu has a short list too
    assert main.count('<option value="Asia/Jakarta"') == 1
    assert main.count(" selected>") == 1 and '<option value="Asia/Jakarta" selected>' in main
    assert '<option value="Africa/Abidjan">' in main
    response = client.post(
        reverse("agents:preferences"), {"time_zone": "Asia/Makassar", "next": "/inbox?tab=mine"}
    )
    assert response.status_code == 302 and response["Location"] == "/inbox?tab=mine"
    assert Agent.objects.get(pk=ani.agent.pk).time_zone == "Asia/Makassar"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "localtime"])
def test_a_time_zone_that_is_not_one_is_refused_clearly(ani, zone):
    response = logged_in(ani).post(reverse("agents:preferences"), {"time_zone": zone})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="field-error"' in html
    assert "is not a time zone" in html or "This field is required" in html
    assert Agent.objects.get(pk=ani.agent.pk).time_zone == "Asia/Jakarta"


def test_the_service_refuses_an_unknown_zone(ani):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="not a time zone"):
        agent_time_zone_set(agent=ani.agent, time_zone="Europe/Atlantis")
    assert Agent.objects.get(pk=ani.agent.pk).time_zone == "Asia/Jakarta"


def test_the_preferences_post_needs_the_csrf_token(ani):
    client = logged_in(ani, enforce_csrf_checks=True)
    response = client.post(reverse("agents:preferences"), {"time_zone": "UTC"})
    assert response.status_code == 403
    assert Agent.objects.get(pk=ani.agent.pk).time_zone == "Asia/Jakarta"


def test_the_preferences_page_does_not_redirect_off_site(ani):
    response = logged_in(ani).post(
        reverse("agents:preferences"), {"time_zone": "UTC", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("chats:inbox")


def test_the_workspace_shows_times_in_the_agents_zone(ani, fonnte_device):
    contact = ContactFactory(device=fonnte_device, name="Rama")
    conversation = ConversationFactory(
        contact=contact, agent=ani.agent, status=Conversation.Status.OPEN
    )
    message = Message.objects.create(
        conversation=conversation, device=fonnte_device, direction="in", text="Halo"
    )
    # 23:30 UTC: 06:30 the next day in Jakarta, 08:30 in Jayapura.
    at = dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.UTC)
    Message.objects.filter(pk=message.pk).update(created_at=at)
    Conversation.objects.filter(pk=conversation.pk).update(opened_at=at, last_activity_at=at)
    client = logged_in(ani)
    url = reverse("chats:conversation", args=[conversation.pk])

    html = client.get(url).content.decode()
    assert ">06:30</time>" in html

    Agent.objects.filter(pk=ani.agent.pk).update(time_zone="Asia/Jayapura")
    html = client.get(url).content.decode()
    assert ">08:30</time>" in html and ">06:30</time>" not in html
    assert 'data-day="2026-03-03"' in html


def test_staff_pages_stay_in_the_desks_zone(client, settings):
    from django.utils import timezone

    client.force_login(StaffFactory(is_superuser=True))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


@pytest.mark.django_db(transaction=True)
async def test_a_new_zone_reconnects_the_agents_open_sockets(ani):
    socket = await open_socket(ani)
    agent = await sync_to_async(Agent.objects.get)(pk=ani.agent.pk)
    await sync_to_async(agent_time_zone_set)(agent=agent, time_zone="Asia/Jayapura")
    # "Service restart": the page reconnects, reading the new zone, and resynchronizes.
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 1012}


# --- Admin ------------------------------------------------------------------------------------


def test_the_admin_sets_an_agents_zone_and_mute(client, ani):
    client.force_login(StaffFactory(is_superuser=True))
    url = reverse("admin:agents_agent_change", args=[ani.agent.pk])
    page = client.get(url).content.decode()
    assert 'name="time_zone"' in page and "Eastern Indonesia (WIT)" in page
    base = {
        "name": "Ani",
        "device": ani.agent.device.pk,
        "division": ani.agent.division.pk,
        "is_active": "on",
    }
    refused = client.post(url, {**base, "time_zone": "Mars/Olympus_Mons"})
    assert refused.status_code == 200 and "is not a time zone" in refused.content.decode()
    assert Agent.objects.get(pk=ani.agent.pk).time_zone == "Asia/Jakarta"

    saved = client.post(url, {**base, "time_zone": "Asia/Jayapura", "notifications_muted": "on"})
    assert saved.status_code == 302
    agent = Agent.objects.get(pk=ani.agent.pk)
    assert agent.time_zone == "Asia/Jayapura" and agent.notifications_muted is True
