"""Every kind of reply reaches a local gateway speaking Fonnte with the right fields
(docs/ARCHITECTURE.md, "Fonnte's protocol"): attachment by signed link or by URL with its caption
and file name, a
location as "lat,long", a poll with comma-joined choices and its selection mode, a quick reply
with its attachment and location, and `inboxid` when quoting. Real Celery worker, real HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections

from chats.media import outgoing_file_from_signature
from chats.models import Message
from chats.services.outbound import (
    message_location_create,
    message_poll_create,
    message_quick_reply_create,
    message_reply_create,
)
from templates_app.models import QuickReply
from templates_app.services import poll_spec_build, quick_reply_render
from tests.gateway_server import FonnteGateway, gateway_fixture  # noqa: F401
from tests.workers import assigned_conversation, inbound, thread_worker, wait_until

from .media_support import PDF_BYTES

pytestmark = pytest.mark.django_db(transaction=True)

S = Message.Status


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.SEND_RATE_PER_DEVICE = 0
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_BASE_URL = "https://sapa.example"
    # The test links point at documentation addresses; nothing resolves them here.
    settings.MEDIA_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def worker():
    with thread_worker() as running:
        yield running
    close_old_connections()


def sent(message: Message) -> Message:
    wait_until(
        lambda: Message.objects.filter(pk=message.pk, status=S.SENT).exists(),
        what=f"message {message.pk} sent",
    )
    message.refresh_from_db()
    return message


def test_an_uploaded_file_is_sent_by_signed_link_with_caption_and_name(
    gateway: FonnteGateway, worker
):
    conversation = assigned_conversation()
    message = message_reply_create(
        conversation=conversation,
        agent=conversation.agent,
        text="Ini daftar harganya",
        attachment=SimpleUploadedFile("Price list.pdf", PDF_BYTES),
    )
    assert message.attachment_file.name.startswith("outgoing/")
    assert message.attachment_name == "Price list.pdf"
    sent(message)

    [request] = gateway.requests
    body = request.json
    assert body["message"] == "Ini daftar harganya"
    assert body["filename"] == "Price list.pdf"
    assert body["target"] == "6281234567890"
    assert body["url"].startswith("https://sapa.example/")
    # The link names exactly the stored upload (what the gateway will fetch).
    signature = body["url"].rstrip("/").split("/")[-2]
    assert outgoing_file_from_signature(signature=signature).stored_name == (
        message.attachment_file.name
    )


def test_a_link_attachment_is_sent_as_url_and_may_have_no_caption(gateway: FonnteGateway, worker):
    conversation = assigned_conversation()
    message = message_reply_create(
        conversation=conversation,
        agent=conversation.agent,
        attachment="https://files.example.com/docs/Katalog%202026.pdf",
    )
    assert message.text == ""
    sent(message)
    [request] = gateway.requests
    assert request.json == {
        "target": "6281234567890",
        "message": "",
        "countryCode": "0",
        "url": "https://files.example.com/docs/Katalog%202026.pdf",
        "filename": "Katalog 2026.pdf",
    }


def test_a_location_is_sent_as_lat_comma_long(gateway: FonnteGateway, worker):
    conversation = assigned_conversation()
    message = message_location_create(
        conversation=conversation,
        agent=conversation.agent,
        latitude="-7.983908",
        longitude=112.621391,
    )
    assert message.location_lat == Decimal("-7.983908")
    sent(message)
    [request] = gateway.requests
    assert request.json == {
        "target": "6281234567890",
        "countryCode": "0",
        "location": "-7.983908,112.621391",
    }


def test_a_poll_is_sent_with_comma_joined_choices_and_its_mode(gateway: FonnteGateway, worker):
    conversation = assigned_conversation()
    question = inbound(conversation, inbox_id=555)
    poll = poll_spec_build(
        question="Jam berapa kami boleh menelepon?",
        choices=["Pagi", " Siang ", "Sore"],
        multiple=True,
    )
    message = message_poll_create(
        conversation=conversation, agent=conversation.agent, poll=poll, quoted=question
    )
    assert (message.poll_name, message.poll_choices, message.poll_multiple) == (
        "Jam berapa kami boleh menelepon?",
        ["Pagi", "Siang", "Sore"],
        True,
    )
    sent(message)
    [request] = gateway.requests
    assert request.json == {
        "target": "6281234567890",
        "countryCode": "0",
        "pollname": "Jam berapa kami boleh menelepon?",
        "choices": "Pagi,Siang,Sore",
        "select": "multiple",
        "inboxid": 555,
    }


def test_a_quick_reply_sends_its_file_with_the_text_then_its_location(
    gateway: FonnteGateway, worker
):
    conversation = assigned_conversation()
    template = QuickReply.objects.create(
        shortcut="lokasi",
        title="Lokasi toko",
        text="Halo {name}, ini brosur dan lokasi toko kami.",
        location_lat=Decimal("-6.175392"),
        location_lng=Decimal("106.827153"),
    )
    template.attachment_file.save("brosur.pdf", ContentFile(PDF_BYTES))
    rendered = quick_reply_render(
        quick_reply=template, conversation=conversation, agent=conversation.agent
    )
    first, second = message_quick_reply_create(
        conversation=conversation, agent=conversation.agent, quick_reply=rendered
    )
    assert first.attachment_file.name == template.attachment_file.name
    assert second.location_lat == Decimal("-6.175392")
    sent(first)
    sent(second)

    bodies = sorted((r.json for r in gateway.requests), key=lambda body: "location" in body)
    assert (
        bodies[0]["message"]
        == f"Halo {conversation.contact.name}, ini brosur dan lokasi toko kami."
    )
    assert bodies[0]["filename"] == "brosur.pdf"
    signature = bodies[0]["url"].rstrip("/").split("/")[-2]
    assert outgoing_file_from_signature(signature=signature).stored_name == (
        template.attachment_file.name
    )
    assert bodies[1] == {
        "target": "6281234567890",
        "countryCode": "0",
        "location": "-6.175392,106.827153",
    }


def test_a_text_only_quick_reply_is_one_text_message(gateway: FonnteGateway, worker):
    conversation = assigned_conversation()
    template = QuickReply.objects.create(shortcut="salam", title="Salam", text="Halo {agent}!")
    rendered = quick_reply_render(
        quick_reply=template, conversation=conversation, agent=conversation.agent
    )
    [message] = message_quick_reply_create(
        conversation=conversation, agent=conversation.agent, quick_reply=rendered
    )
    sent(message)
    [request] = gateway.requests
    assert request.json == {
        "target": "6281234567890",
        "message": f"Halo {conversation.agent.name}!",
        "countryCode": "0",
    }


# --- Refusals change nothing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latitude", "longitude", "field"),
    [("91", "10", "latitude"), ("-7", "180.5", "longitude"), ("abc", "10", "latitude")],
)
def test_out_of_range_coordinates_are_refused(latitude, longitude, field):
    conversation = assigned_conversation()
    with pytest.raises(ValidationError) as error:
        message_location_create(
            conversation=conversation,
            agent=conversation.agent,
            latitude=latitude,
            longitude=longitude,
        )
    assert field in error.value.message_dict
    assert not Message.objects.filter(direction=Message.Direction.OUT).exists()


def test_an_unsupported_attachment_is_refused_and_nothing_stored():
    conversation = assigned_conversation()
    with pytest.raises(ValidationError) as error:
        message_reply_create(
            conversation=conversation,
            agent=conversation.agent,
            text="lihat",
            attachment=SimpleUploadedFile("virus.exe", b"MZ"),
        )
    assert error.value.code == "extension"
    assert not Message.objects.filter(direction=Message.Direction.OUT).exists()


def test_text_is_still_required_without_an_attachment():
    conversation = assigned_conversation()
    with pytest.raises(ValidationError) as error:
        message_reply_create(conversation=conversation, agent=conversation.agent, text="  ")
    assert error.value.code == "empty"


# --- The payload builders on their own --------------------------------------------------------


def test_payload_builders_write_fonntes_fields():
    from devices_app.gateways.fonnte import send as fonnte_send

    assert fonnte_send.location_payload(latitude=Decimal("1E-7"), longitude=-0.5) == {
        "countryCode": "0",
        "location": "0.0000001,-0.5",
    }
    assert fonnte_send.media_payload(url="https://x.example/a.pdf", inbox_id=7) == {
        "message": "",
        "countryCode": "0",
        "url": "https://x.example/a.pdf",
        "inboxid": 7,
    }
    with pytest.raises(ValueError):
        fonnte_send.poll_payload(question="Q", choices=["a,b", "c"], multiple=False)
