"""Staff read the assignment log and define rotator links in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chats.services.assignment import conversation_assign
from rotation.models import AssignmentLog, RotatorLink
from tests.factories import DeviceFactory, DivisionFactory, StaffFactory

from .helpers import make_agents, new_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_the_assignment_log_explains_a_pick_in_words(staff_client):
    division = DivisionFactory(online_only=True)
    make_agents(division, 2)
    conversation = new_conversation(division)
    conversation_assign(conversation=conversation, trigger=AssignmentLog.Trigger.NEW_CHAT)
    log = AssignmentLog.objects.get()
    listing = staff_client.get(reverse("admin:rotation_assignmentlog_changelist")).content.decode()
    assert "nobody (queued)" in listing
    assert "offline" in listing
    detail = staff_client.get(
        reverse("admin:rotation_assignmentlog_change", args=[log.pk])
    ).content.decode()
    assert "nobody was eligible: the chat waits in the queue" in detail
    assert "turn kept for later" not in detail  # the cycle did not end
    assert detail.count("offline") >= 2


def test_the_log_filters_by_trigger_and_division(staff_client):
    url = reverse("admin:rotation_assignmentlog_changelist")
    assert staff_client.get(url, {"trigger": "queue_drain"}).status_code == 200
    division = DivisionFactory()
    assert staff_client.get(url, {"agent__division__id__exact": division.pk}).status_code == 200


def test_staff_create_a_rotator_link_with_weighted_numbers(staff_client):
    one, two = DeviceFactory(), DeviceFactory()
    response = staff_client.post(
        reverse("admin:rotation_rotatorlink_add"),
        {
            "name": "Ramadan promo",
            "slug": "ramadan",
            "text": "Halo!",
            "mode": "full",
            "is_active": "on",
            "members-TOTAL_FORMS": "2",
            "members-INITIAL_FORMS": "0",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000",
            "members-0-device": one.pk,
            "members-0-weight": "2",
            "members-1-device": two.pk,
            "members-1-weight": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    link = RotatorLink.objects.get(slug="ramadan")
    assert {(m.device_id, m.weight) for m in link.members.all()} == {(one.pk, 2), (two.pk, 1)}
    page = staff_client.get(reverse("admin:rotation_rotatorlink_changelist")).content.decode()
    assert "/r/ramadan" in page


def test_a_weight_below_one_is_refused(staff_client):
    device = DeviceFactory()
    response = staff_client.post(
        reverse("admin:rotation_rotatorlink_add"),
        {
            "name": "Bad",
            "slug": "bad",
            "mode": "full",
            "members-TOTAL_FORMS": "1",
            "members-INITIAL_FORMS": "0",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000",
            "members-0-device": device.pk,
            "members-0-weight": "0",
        },
    )
    assert response.status_code == 200
    assert not RotatorLink.objects.exists()


def test_division_admin_documents_the_defaults(staff_client):
    page = staff_client.get(reverse("admin:divisions_division_add")).content.decode()
    assert "the default" in page


def test_raising_the_division_limit_in_the_admin_drains_the_queue(staff_client):
    division = DivisionFactory(online_only=False, max_open_chats=1)
    (agent,) = make_agents(division, 1)
    first, second = new_conversation(division), new_conversation(division)
    for conversation in (first, second):
        conversation_assign(conversation=conversation, trigger=AssignmentLog.Trigger.NEW_CHAT)
    second.refresh_from_db()
    assert second.status == "queued"
    response = staff_client.post(
        reverse("admin:divisions_division_change", args=[division.pk]),
        {
            "name": division.name,
            "rotation_mode": "full",
            "skipped_turn": "keep",
            "max_open_chats": "2",
            "sticky_returning_contacts": "on",
        },
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert (second.status, second.agent) == ("open", agent)


def test_the_link_field_help_shows_the_public_address(staff_client, settings):
    settings.PUBLIC_BASE_URL = "https://desk.example.com"
    html = staff_client.get(reverse("admin:rotation_rotatorlink_add")).content.decode()
    # Escaped, so the browser shows "<link>" instead of swallowing it as a tag.
    assert "The public address is https://desk.example.com/r/&lt;link&gt;." in html
