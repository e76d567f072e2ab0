from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from chats.models import Contact, Conversation, Message
from chats.services.inbound import RETRY_WINDOW
from devices_app.models import Device
from devices_app.services import device_webhook_key_rotate
from rotation.models import AssignmentLog
from tests.factories import ConversationFactory
from tests.fonnte import fixture, hook_url, post, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(fonnte_device, sales_agents):
    return fonnte_device


# --- Routing and refusals ----------


@pytest.mark.parametrize("slash", [False, True])
def test_webhook_matches_with_and_without_trailing_slash(client, device, slash):
    response = post(client, device, "incoming", fixture("incoming_private_captured"), slash=slash)
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert Message.objects.count() == 1


def test_sandbox_prefix_reaches_the_same_device(client, device):
    url = hook_url(device, "incoming", gateway="sandbox")
    body = json.dumps(fixture("incoming_private_captured"))
    assert client.post(url, body, content_type="application/json").status_code == 200


def _refused(response, status, reason):
    assert response.status_code == status, response.content
    assert response.json()["ok"] is False
    assert reason in response.json()["error"]


def test_unknown_key_is_404_and_changes_nothing(client, device):
    before = snapshot()
    body = json.dumps(fixture("incoming_private_captured"))
    response = client.post(
        "/hooks/fonnte/not-a-real-key/incoming", body, content_type="application/json"
    )
    _refused(response, 404, "unknown webhook key")
    assert snapshot() == before


def test_inactive_device_key_is_404(client, device):
    Device.objects.filter(pk=device.pk).update(is_active=False)
    before = snapshot()
    response = post(client, device, "incoming", fixture("incoming_private_captured"))
    _refused(response, 404, "unknown webhook key")
    assert snapshot() == before


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_wrong_method_is_405_and_changes_nothing(client, device, method):
    before = snapshot()
    response = getattr(client, method)(hook_url(device, "incoming"))
    _refused(response, 405, "POST only")
    assert response["Allow"] == "POST"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("kind", "raw", "reason"),
    [
        ("incoming", b"{not json", "not valid JSON"),
        ("incoming", b"", "empty body"),
        ("incoming", b'"just a string"', "must be a JSON object"),
        ("incoming", b'{"device": "6287700000001", "message": "no sender"}', "'sender'"),
        ("incoming", b'{"device": "6281999999999", "sender": "628123", "message": "x"}', "belongs"),
        ("status", b'{"device": "6287700000001", "status": "sent"}', "neither 'id' nor 'stateid'"),
        ("connect", b'{"device": "6287700000001", "status": "maybe"}', "expected 'connect'"),
        ("connect", b'{"device": "6287700000001"}', "'status' is missing"),
    ],
)
def test_malformed_or_unknown_bodies_are_400_and_change_nothing(client, device, kind, raw, reason):
    before = snapshot()
    response = post(client, device, kind, None, raw=raw)
    _refused(response, 400, reason)
    assert snapshot() == before


def test_body_over_one_megabyte_is_413_and_changes_nothing(client, device):
    before = snapshot()
    body = fixture("incoming_private_captured", message="x" * (1024 * 1024))
    response = post(client, device, "incoming", body)
    _refused(response, 413, "body over")
    assert snapshot() == before


def test_rotated_key_retires_the_old_urls(client, device):
    old_url = hook_url(device, "incoming")
    device_webhook_key_rotate(device=device)
    body = json.dumps(fixture("incoming_private_captured"))
    assert client.post(old_url, body, content_type="application/json").status_code == 404
    assert post(client, device, "incoming", fixture("incoming_private_captured")).status_code == 200


def test_form_encoded_bodies_are_accepted(client, device):
    response = client.post(
        hook_url(device, "incoming"),
        "sender=6282100000002&message=Halo+form&name=Rama&inboxid=5",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Message.objects.get().text == "Halo form"


# --- Storing what Fonnte sends ----------


def test_captured_private_message_opens_an_assigned_conversation(client, device, sales_agents):
    post(client, device, "incoming", fixture("incoming_private_captured"))
    message = Message.objects.select_related("conversation__contact").get()
    conversation = message.conversation
    assert message.direction == Message.Direction.IN
    assert message.text == "Halo"
    assert message.raw["text"] == "non-button message"  # unused fields are kept
    assert conversation.contact.address == "6282100000002"
    assert conversation.contact.name == "Rama"
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.agent_id in {a.agent.pk for a in sales_agents}
    assert conversation.unread_count == 1
    assert conversation.last_message_preview == "Halo"
    assert AssignmentLog.objects.filter(conversation=conversation).count() == 1


def test_next_messages_stay_in_the_same_episode_with_the_same_agent(client, device):
    post(client, device, "incoming", fixture("incoming_private_captured"))
    post(client, device, "incoming", fixture("incoming_with_inboxid_and_timestamp"))
    conversation = Conversation.objects.get()
    assert conversation.messages.count() == 2
    assert conversation.unread_count == 2
    assert AssignmentLog.objects.count() == 1


def test_message_after_resolution_opens_a_new_episode(client, device):
    post(client, device, "incoming", fixture("incoming_private_captured"))
    Conversation.objects.update(status=Conversation.Status.RESOLVED, resolved_at=timezone.now())
    post(client, device, "incoming", fixture("incoming_with_inboxid_and_timestamp"))
    assert Conversation.objects.count() == 2
    newest = Conversation.objects.exclude(status=Conversation.Status.RESOLVED).get()
    assert AssignmentLog.objects.get(conversation=newest).trigger == AssignmentLog.Trigger.RETURNING


def test_group_message_shows_the_author(client, device):
    post(client, device, "incoming", fixture("incoming_group_captured"))
    message = Message.objects.select_related("conversation__contact").get()
    contact = message.conversation.contact
    assert contact.is_group and contact.address == "120363400812345678@g.us"
    assert contact.name == ""  # the group's name is not the member's
    assert (message.author_address, message.author_name) == ("6282100000003", "Sari")


def test_legacy_fields_location_attachment_and_forwarded(client, device):
    for name in ("incoming_legacy_pesan_pengirim", "incoming_location", "incoming_attachment"):
        assert post(client, device, "incoming", fixture(name)).status_code == 200
    legacy = Message.objects.get(conversation__contact__address="6282100000004")
    assert legacy.text == "Apakah stok masih ada?"
    location = Message.objects.get(gateway_inbox_id=73126)
    assert str(location.location_lat) == "-7.983908"
    assert str(location.location_lng) == "112.621391"
    attachment = Message.objects.get(gateway_inbox_id=73127)
    assert attachment.attachment_url == "https://files.fonnte.com/abc/transfer.jpg"
    assert (attachment.attachment_name, attachment.attachment_extension) == ("transfer.jpg", "jpg")
    assert attachment.is_forwarded
    assert attachment.gateway_timestamp is not None


def test_quick_message_is_stored_as_sent_from_the_phone_without_unread(client, device):
    post(client, device, "incoming", fixture("incoming_quick_self"))
    message = Message.objects.get()
    assert message.direction == Message.Direction.OUT
    assert message.status == Message.Status.SENT
    assert message.sender_agent is None
    assert message.conversation.unread_count == 0
    assert message.conversation.contact.name == ""  # "Toko Sapa" is the business, not the customer


def test_poll_from_the_customer_is_a_poll(client, device):
    post(client, device, "incoming", fixture("incoming_poll"))
    message = Message.objects.get()
    assert message.poll_name == "Jam berapa bisa dihubungi?"
    assert message.poll_choices == ["Pagi", "Siang", "Malam"]
    assert message.poll_vote_for is None


def test_poll_vote_links_to_the_poll_sapa_sent(client, device):
    post(client, device, "incoming", fixture("incoming_private_captured"))
    conversation = Conversation.objects.get()
    poll = Message.objects.create(
        conversation=conversation,
        device=device,
        direction=Message.Direction.OUT,
        status=Message.Status.SENT,
        poll_name="How was our service today?",
        poll_choices=["Excellent", "Good", "Could be better"],
    )
    post(client, device, "incoming", fixture("incoming_poll_vote"))
    vote = Message.objects.get(gateway_inbox_id=73129)
    assert vote.poll_vote_for == poll
    assert vote.poll_choices == ["Excellent"]
    assert vote.conversation == conversation


# --- Idempotency ----------


def test_retried_webhook_stores_one_message(client, device):
    body = fixture("incoming_with_inboxid_and_timestamp")
    first = post(client, device, "incoming", body)
    for _ in range(3):
        again = post(client, device, "incoming", body)
        assert again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


def test_retry_without_inboxid_dedupes_by_timestamp_hash(client, device):
    body = fixture("incoming_timestamp_only")
    post(client, device, "incoming", body)
    post(client, device, "incoming", body)
    assert Message.objects.count() == 1


def test_retry_without_id_or_timestamp_merges_inside_the_retry_window(client, device):
    body = fixture("incoming_private_captured")
    post(client, device, "incoming", body)
    post(client, device, "incoming", body)
    assert Message.objects.count() == 1


def test_same_text_after_the_retry_window_is_a_new_message(client, device):
    body = fixture("incoming_private_captured")
    post(client, device, "incoming", body)
    # As if the first one had arrived half an hour ago (its key carries its arrival bucket).
    earlier = timezone.now() - timedelta(minutes=30)
    first = Message.objects.get()
    content_key = first.dedupe_key.rsplit(":", 1)[0]
    bucket = int(earlier.timestamp() // RETRY_WINDOW.total_seconds())
    Message.objects.update(created_at=earlier, dedupe_key=f"{content_key}:{bucket}")
    post(client, device, "incoming", body)
    assert Message.objects.count() == 2


def test_retry_across_a_window_boundary_still_merges(client, device):
    body = fixture("incoming_private_captured")
    post(client, device, "incoming", body)
    # The original arrived five minutes ago, in the previous bucket; the retry comes now.
    earlier = timezone.now() - timedelta(minutes=5)
    first = Message.objects.get()
    content_key = first.dedupe_key.rsplit(":", 1)[0]
    previous = int(timezone.now().timestamp() // RETRY_WINDOW.total_seconds()) - 1
    Message.objects.update(created_at=earlier, dedupe_key=f"{content_key}:{previous}")
    post(client, device, "incoming", body)
    assert Message.objects.count() == 1


def test_identical_texts_with_distinct_inboxids_are_two_messages(client, device):
    post(client, device, "incoming", fixture("incoming_private_captured", inboxid=901))
    post(client, device, "incoming", fixture("incoming_private_captured", inboxid=902))
    assert Message.objects.count() == 2


def test_identical_texts_with_distinct_timestamps_are_two_messages(client, device):
    post(client, device, "incoming", fixture("incoming_timestamp_only", timestamp=1768200100))
    post(client, device, "incoming", fixture("incoming_timestamp_only", timestamp=1768200101))
    assert Message.objects.count() == 2


def test_same_inboxid_on_another_device_is_another_message(client, device):
    from tests.factories import DeviceFactory

    other = DeviceFactory(division=device.division)
    post(client, device, "incoming", fixture("incoming_with_inboxid_and_timestamp"))
    body = fixture("incoming_with_inboxid_and_timestamp", device=other.number)
    assert post(client, other, "incoming", body).status_code == 200
    assert Message.objects.count() == 2
    assert Contact.objects.count() == 2


# --- Message status ----------


@pytest.fixture
def sent_message(client, device):
    post(client, device, "incoming", fixture("incoming_private_captured"))
    conversation = Conversation.objects.get()
    return Message.objects.create(
        conversation=conversation,
        device=device,
        direction=Message.Direction.OUT,
        status=Message.Status.SENDING,
        text="Siap kak",
        gateway_message_id="80367170",
    )


def _status_of(message):
    message.refresh_from_db()
    return message.status


def test_status_patterns_move_the_message_forward(client, device, sent_message):
    assert post(client, device, "status", fixture("status_id_only")).status_code == 200
    assert _status_of(sent_message) == Message.Status.SENT
    post(client, device, "status", fixture("status_id_and_stateid"))
    sent_message.refresh_from_db()
    assert sent_message.gateway_state_id == "st-5501"
    post(client, device, "status", fixture("status_stateid_only_delivered"))
    assert _status_of(sent_message) == Message.Status.DELIVERED
    post(client, device, "status", fixture("status_stateid_only_read"))
    assert _status_of(sent_message) == Message.Status.READ
    assert sent_message.sent_at and sent_message.delivered_at and sent_message.read_at


def test_out_of_order_and_repeated_statuses_never_move_back(client, device, sent_message):
    post(client, device, "status", fixture("status_id_and_stateid"))
    post(client, device, "status", fixture("status_stateid_only_read"))
    assert _status_of(sent_message) == Message.Status.READ
    read_at = sent_message.read_at
    for late in ("status_stateid_only_delivered", "status_id_only", "status_stateid_only_read"):
        assert post(client, device, "status", fixture(late)).status_code == 200
        assert _status_of(sent_message) == Message.Status.READ
    assert sent_message.read_at == read_at
    assert sent_message.delivered_at is not None  # implied by read


def test_failed_status_records_the_reason(client, device, sent_message):
    Message.objects.filter(pk=sent_message.pk).update(gateway_message_id="80367171")
    post(client, device, "status", fixture("status_failed"))
    sent_message.refresh_from_db()
    assert sent_message.status == Message.Status.FAILED
    assert sent_message.failure_reason == "invalid"


def test_status_for_an_unknown_message_is_accepted_and_kept_for_later(client, device):
    # Applied when the send records that id (tests/chats/test_status_before_id.py).
    from chats.models import EarlyStatusUpdate

    response = post(client, device, "status", fixture("status_id_only"))
    assert response.status_code == 200
    assert response.json()["id"] is None
    assert EarlyStatusUpdate.objects.get().message_id == fixture("status_id_only")["id"]


def test_status_of_another_devices_message_is_not_applied(client, device, sent_message):
    from tests.factories import DeviceFactory

    other = DeviceFactory(division=device.division)
    post(client, other, "status", fixture("status_id_only", device=other.number))
    assert _status_of(sent_message) == Message.Status.SENDING


# --- Device connection ----------


def test_disconnect_and_reconnect_update_the_device(client, device):
    assert post(client, device, "connect", fixture("connect_disconnect")).status_code == 200
    device.refresh_from_db()
    assert device.status == Device.Status.DISCONNECTED
    assert device.status_reason == "logged out from phone"
    assert int(device.status_changed_at.timestamp()) == 1736700000
    post(client, device, "connect", fixture("connect_connect"))
    device.refresh_from_db()
    assert device.status == Device.Status.CONNECTED
    assert device.status_reason == ""


def test_a_late_connection_event_does_not_overwrite_a_newer_one(client, device):
    post(client, device, "connect", fixture("connect_connect"))
    post(client, device, "connect", fixture("connect_disconnect"))  # older timestamp
    device.refresh_from_db()
    assert device.status == Device.Status.CONNECTED


def test_queued_conversation_keeps_waiting_on_new_messages(client, device):
    from tests.factories import ContactFactory

    contact = ContactFactory(device=device, address="6282100000002")
    queued = ConversationFactory(contact=contact)
    post(client, device, "incoming", fixture("incoming_private_captured"))
    queued.refresh_from_db()
    assert queued.status == Conversation.Status.QUEUED and queued.agent is None
    assert queued.messages.count() == 1
    assert AssignmentLog.objects.count() == 0


def test_incoming_attachment_is_queued_for_copying_on_commit(
    client, device, django_capture_on_commit_callbacks, settings
):
    import redis

    with django_capture_on_commit_callbacks(execute=True):
        post(client, device, "incoming", fixture("incoming_attachment"))
        post(client, device, "incoming", fixture("incoming_private_captured"))  # no attachment
    message = Message.objects.get(gateway_inbox_id=73127)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queued = [json.loads(raw)["headers"] for raw in broker.lrange("celery", 0, -1)]
    copies = [h for h in queued if h["task"] == "chats.attachment_copy"]
    assert [h["argsrepr"] for h in copies] == [f"({message.pk},)"]
    broker.close()
