"""ApiWago and wonotify webhook bodies end to end through /hooks/<gateway>/<key>/<kind>: stored
once however often they arrive, assigned, receipts moving sent messages forward, and bodies Sapa
cannot read kept for staff and answered 200 (these gateways never retry a refusal)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chats.models import Contact, Conversation, Message
from devices_app.models import Device, UnparsedWebhook
from tests.fonnte import snapshot

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parents[1] / "fixtures"
APIWAGO_TOKEN = "sapa-device-1"
WONOTIFY_INSTANCE = "609ACF283XXXX"


def body_of(gateway: str, name: str, **overrides) -> dict:
    body = json.loads((FIXTURES / gateway / f"{name}.json").read_text())
    body.update(overrides)
    return body


def post(client, device: Device, body, *, kind: str = "incoming", raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body)
    return client.post(
        f"/hooks/{device.gateway}/{device.webhook_key}/{kind}",
        data=data,
        content_type="application/json",
    )


@pytest.fixture
def apiwago_device(fonnte_device, sales_agents):
    Device.objects.filter(pk=fonnte_device.pk).update(
        gateway=Device.Gateway.APIWAGO, gateway_token=APIWAGO_TOKEN
    )
    fonnte_device.refresh_from_db()
    return fonnte_device


@pytest.fixture
def wonotify_device(fonnte_device, sales_agents):
    Device.objects.filter(pk=fonnte_device.pk).update(
        gateway=Device.Gateway.WONOTIFY,
        gateway_token="6881c11f741a1",
        gateway_instance=WONOTIFY_INSTANCE,
    )
    fonnte_device.refresh_from_db()
    return fonnte_device


def _sent(device: Device, gateway_id: str) -> Message:
    conversation = Conversation.objects.filter(device=device).first()
    return Message.objects.create(
        conversation=conversation,
        device=device,
        direction=Message.Direction.OUT,
        status=Message.Status.SENT,
        text="Siap kak",
        gateway_message_id=gateway_id,
    )


# --- ApiWago ------------------------------------------------------------------------------------


def test_apiwago_message_is_stored_once_and_assigned(client, apiwago_device):
    body = body_of("apiwago", "message_private_text")
    first = post(client, apiwago_device, body)
    # ApiWago posts again after a transport error; the id inside `payload` dedupes it even
    # when its own `update_at` differs.
    again = post(client, apiwago_device, {**body, "update_at": "2026-08-05 12:00:03"})

    assert first.status_code == 200 and again.status_code == 200
    message = Message.objects.get()
    assert message.direction == Message.Direction.IN
    assert message.text == "Halo, stok masih ada?"
    assert message.conversation.contact.address == "6282100000002"
    assert message.conversation.agent is not None
    assert message.raw.get("token") is None


def test_apiwago_group_message_belongs_to_the_group(client, apiwago_device):
    assert post(client, apiwago_device, body_of("apiwago", "message_group_text")).status_code == 200
    message = Message.objects.get()
    assert message.conversation.contact.address == "120363400800000001@g.us"
    assert message.author_address == "6282100000003"


def test_apiwago_media_url_becomes_the_attachment(client, apiwago_device):
    post(client, apiwago_device, body_of("apiwago", "message_document"))
    message = Message.objects.get()
    assert message.attachment_url.startswith("https://s3.example.com/apiwago/")
    assert message.attachment_name == "Invoice Agustus.pdf"


def test_apiwago_receipts_move_sent_messages_forward(client, apiwago_device):
    post(client, apiwago_device, body_of("apiwago", "message_private_text"))
    first = _sent(apiwago_device, "3EB0ABCDEF0123456789")
    second = _sent(apiwago_device, "3EB0ABCDEF0123456790")

    assert post(client, apiwago_device, body_of("apiwago", "receipt_delivered")).status_code == 200
    first.refresh_from_db()
    assert first.status == Message.Status.DELIVERED

    assert (
        post(client, apiwago_device, body_of("apiwago", "receipt_read_two_ids")).status_code == 200
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == Message.Status.READ


def test_apiwago_call_and_own_read_receipts_are_answered_and_change_nothing(client, apiwago_device):
    before = snapshot()
    for name in ("incoming_call", "receipt_read_self"):
        response = post(client, apiwago_device, body_of("apiwago", name))
        assert response.status_code == 200 and response.json()["ok"] is True
    assert snapshot() == before
    assert not UnparsedWebhook.objects.exists()


def test_apiwago_body_sapa_cannot_read_is_kept_masked_and_answered_200(client, apiwago_device):
    before = snapshot()
    body = {"token": APIWAGO_TOKEN, "event": "group_participants", "jid": "1203@g.us"}
    response = post(client, apiwago_device, body)

    assert response.status_code == 200
    assert response.json()["ok"] is True
    kept = UnparsedWebhook.objects.get()
    assert response.json()["kept"] == kept.pk
    assert kept.device == apiwago_device and kept.gateway == "apiwago" and kept.kind == "incoming"
    assert "'group_participants'" in kept.reason
    assert APIWAGO_TOKEN not in kept.body
    assert json.loads(kept.body) == {
        "token": "•••",
        "event": "group_participants",
        "jid": "1203@g.us",
    }
    assert snapshot() == before


def test_apiwago_body_of_another_session_is_kept_not_applied(client, apiwago_device):
    body = body_of("apiwago", "message_private_text", token="someone-else")
    assert post(client, apiwago_device, body).status_code == 200
    assert not Message.objects.exists()
    assert "session token" in UnparsedWebhook.objects.get().reason


def test_a_body_that_is_not_json_is_kept_as_text(client, apiwago_device):
    response = post(client, apiwago_device, None, raw=b"token=abc&event=message\x00")
    assert response.status_code == 200
    kept = UnparsedWebhook.objects.get()
    assert "\x00" not in kept.body
    assert kept.body.startswith("token=abc&event=message")
    assert kept.body_size == len(b"token=abc&event=message\x00")


def test_fonnte_still_refuses_what_it_cannot_read_so_it_retries(client, fonnte_device):
    before = snapshot()
    response = client.post(
        f"/hooks/fonnte/{fonnte_device.webhook_key}/incoming",
        data=json.dumps({"hello": "world"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert snapshot() == before
    assert not UnparsedWebhook.objects.exists()


def test_only_the_newest_unreadable_bodies_are_kept(client, apiwago_device, settings):
    settings.UNPARSED_WEBHOOKS_KEPT = 2
    for number in range(3):
        post(client, apiwago_device, {"event": f"unknown-{number}"})
    kept = list(UnparsedWebhook.objects.values_list("reason", flat=True))
    assert len(kept) == 2
    assert "unknown-2" in kept[0] and "unknown-1" in kept[1]


# --- wonotify -----------------------------------------------------------------------------------


def test_wonotify_waziper_message_is_stored_once(client, wonotify_device):
    body = body_of("wonotify", "waziper_upsert_text")
    assert post(client, wonotify_device, body).status_code == 200
    assert post(client, wonotify_device, body).status_code == 200

    message = Message.objects.get()
    assert message.text == "Halo kak, masih buka?"
    assert message.conversation.agent is not None
    assert Contact.objects.get().address == "6282100000002"


def test_wonotify_documented_message_and_status(client, wonotify_device):
    post(client, wonotify_device, body_of("wonotify", "documented_message_flat"))
    sent = _sent(wonotify_device, "BAE5OUT000000001")

    assert (
        post(client, wonotify_device, body_of("wonotify", "waziper_update_delivered")).status_code
        == 200
    )
    sent.refresh_from_db()
    assert sent.status == Message.Status.DELIVERED
    post(client, wonotify_device, body_of("wonotify", "documented_message_status_read"))
    sent.refresh_from_db()
    assert sent.status == Message.Status.READ


@pytest.mark.parametrize("name", ["unknown_battery_event", "unknown_shape"])
def test_wonotify_body_sapa_cannot_read_is_kept_and_answered_200(client, wonotify_device, name):
    before = snapshot()
    response = post(client, wonotify_device, body_of("wonotify", name))

    assert response.status_code == 200
    kept = UnparsedWebhook.objects.get()
    assert kept.gateway == "wonotify"
    assert json.loads(kept.body) == body_of("wonotify", name)
    assert snapshot() == before


def test_wonotify_access_token_in_a_kept_body_is_masked(client, wonotify_device):
    body = {"access_token": "6881c11f741a1", "instance_id": WONOTIFY_INSTANCE, "data": {"x": 1}}
    post(client, wonotify_device, body)
    assert "6881c11f741a1" not in UnparsedWebhook.objects.get().body


def test_kept_bodies_are_listed_for_staff(admin_client, wonotify_device):
    UnparsedWebhook.objects.create(
        device=wonotify_device,
        gateway="wonotify",
        kind="incoming",
        body='{"<b>": "x"}',
        body_size=12,
        reason="event 'battery.update' is not one Sapa reads",
    )
    listing = admin_client.get("/admin/devices_app/unparsedwebhook/")
    assert listing.status_code == 200
    assert b"battery.update" in listing.content
    kept = UnparsedWebhook.objects.get()
    detail = admin_client.get(f"/admin/devices_app/unparsedwebhook/{kept.pk}/change/")
    assert detail.status_code == 200
    assert b"&lt;b&gt;" in detail.content  # the body is escaped, never rendered
    assert admin_client.get("/admin/devices_app/unparsedwebhook/add/").status_code == 403


def test_an_overlong_message_id_is_stored_and_its_receipt_still_finds_the_reply(
    client, apiwago_device
):
    # Longer than the id columns: kept as a hash, the same in the message and in its receipt.
    long_id = "3EB0" + "A" * 120
    body = body_of("apiwago", "message_private_text")
    original = json.loads(body["payload"])
    original[0]["key"]["id"] = long_id
    body["payload"] = json.dumps(original)
    assert post(client, apiwago_device, body).status_code == 200
    assert post(client, apiwago_device, body).status_code == 200
    assert Message.objects.count() == 1

    from devices_app.gateways.wa_message import message_id

    sent = _sent(apiwago_device, message_id(long_id))
    receipt = body_of("apiwago", "receipt_delivered", ids=[long_id])
    assert post(client, apiwago_device, receipt).status_code == 200
    sent.refresh_from_db()
    assert sent.status == Message.Status.DELIVERED
    assert len(sent.gateway_message_id) <= 64
