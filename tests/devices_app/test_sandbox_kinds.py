"""The sandbox customer page sends every kind of message a customer can: an image or file
(which Sapa copies from the simulated gateway's link, as from Fonnte's), a location, a reply
quoting a message of the chat, a forwarded message; bad input is refused in words and stores
nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from chats.models import Message
from chats.services.media import attachment_copy_run
from devices_app.models import Device, SandboxMessage
from tests.factories import DeviceFactory, DivisionFactory

TOKEN = "sandbox-token-kinds"
NUMBER = "6281234567890"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005fe02fe0d"
    "efc6b30000000049454e44ae426082"
)


@pytest.fixture(autouse=True)
def _sandbox_on(settings, tmp_path):
    settings.SANDBOX_ENABLED = True
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sandbox_device(db):
    division = DivisionFactory(name="Sandbox Sales", online_only=False)
    return DeviceFactory(
        number="6281100000001",
        gateway=Device.Gateway.SANDBOX,
        gateway_token=TOKEN,
        division=division,
        status=Device.Status.CONNECTED,
    )


def write(client, device, **fields):
    return client.post(
        "/sandbox/chat/write", {"device": device.pk, "number": NUMBER, "name": "Rama", **fields}
    )


def chat_page(client, device, **params) -> str:
    query = {"device": device.pk, "number": NUMBER, "name": "Rama", **params}
    return client.get("/sandbox/chat", query).content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_image_reaches_sapa_and_is_copied_from_the_sandbox_link(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.MEDIA_ALLOW_PRIVATE_URLS = True  # the sandbox runs on this machine
    division = DivisionFactory(online_only=False)
    device = DeviceFactory(
        number="6281100000001", gateway=Device.Gateway.SANDBOX, division=division
    )
    client = Client()
    photo = SimpleUploadedFile("foto produk.png", PNG, content_type="image/png")
    write(client, device, text="Yang ini kak", file=photo)

    message = Message.objects.get()
    assert message.text == "Yang ini kak"  # the caption
    assert message.attachment_url.startswith(f"{live_server.url}/sandbox/files/")
    assert message.attachment_name == "foto_produk.png"
    assert message.attachment_extension == "png"
    assert message.raw["type"] == "image"
    # Sapa's media copy fetches it over HTTP, as it would from the gateway.
    assert attachment_copy_run(message_id=message.pk)
    message.refresh_from_db()
    assert message.attachment_state == Message.AttachmentState.STORED
    assert message.attachment_file.read() == PNG
    # The customer's phone shows the picture they sent.
    assert f'<img src="{message.attachment_url}"' in chat_page(client, device)


@pytest.mark.django_db
def test_a_document_goes_as_a_document(client, sandbox_device, settings):
    settings.PUBLIC_BASE_URL = "http://testserver"
    pdf = SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    write(client, sandbox_device, file=pdf)
    message = Message.objects.get()
    assert message.raw["type"] == "document" and message.attachment_extension == "pdf"
    assert message.text == ""
    # The link serves the file; a tampered or foreign one is a plain 404.
    path = message.attachment_url.removeprefix("http://testserver")
    assert b"".join(client.get(path).streaming_content) == b"%PDF-1.4 test"
    signature, name = path.removeprefix("/sandbox/files/").split("/")
    assert client.get(f"/sandbox/files/{signature}x/{name}").status_code == 404
    assert client.get(f"/sandbox/files/{signature}/other.pdf").status_code == 404


@pytest.mark.django_db
def test_a_location_with_a_decimal_comma(client, sandbox_device):
    write(client, sandbox_device, latitude="-6,2088", longitude="106,8456")
    message = Message.objects.get()
    assert (message.location_lat, message.location_lng) == (
        Decimal("-6.2088"),
        Decimal("106.8456"),
    )
    assert SandboxMessage.objects.get().location == "-6.2088,106.8456"
    assert "Location: -6.2088,106.8456" in chat_page(client, sandbox_device)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "Write a message, or add a file or a location."),
        ({"text": "   "}, "Write a message, or add a file or a location."),
        ({"latitude": "91", "longitude": "0"}, "Give a latitude (-90 to 90)"),
        ({"latitude": "-6.2"}, "Give a latitude (-90 to 90)"),
        ({"latitude": "NaN", "longitude": "1"}, "Give a latitude (-90 to 90)"),
        ({"latitude": "abc", "longitude": "def"}, "Give a latitude (-90 to 90)"),
    ],
)
def test_bad_input_is_refused_in_words_and_stores_nothing(client, sandbox_device, fields, error):
    response = write(client, sandbox_device, **fields)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not SandboxMessage.objects.exists() and not Message.objects.exists()
    # Through htmx too: the chat comes back with the compose box saying why.
    response = client.post(
        "/sandbox/chat/write",
        {"device": sandbox_device.pk, "number": NUMBER, "name": "Rama", **fields},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert 'id="sandbox-messages"' in html and 'hx-swap-oob="outerHTML:#sandbox-compose"' in html
    assert error in html


@pytest.mark.django_db
def test_a_reply_quoting_the_agents_message(client, sandbox_device):
    client.post(
        "/sandbox/fonnte/send",
        {"target": NUMBER, "message": "Stok tinggal 2, kak"},
        headers={"Authorization": TOKEN},
    )
    delivered = SandboxMessage.objects.get(direction="out")
    page = chat_page(client, sandbox_device, quote=delivered.pk)
    assert "Replying to" in page and "Stok tinggal 2, kak" in page.split('id="sandbox-compose"')[1]
    assert f'name="quote" value="{delivered.pk}"' in page

    write(client, sandbox_device, text="Saya ambil dua", quote=delivered.pk)
    reply = SandboxMessage.objects.get(direction="in")
    assert reply.quoted == delivered
    # Sapa gets what Fonnte's webhook carries: the text (it has no field for the quote).
    assert Message.objects.get().text == "Saya ambil dua"
    bubble = chat_page(client, sandbox_device).split(f'id="sandbox-message-{reply.pk}"')[1]
    assert '<blockquote class="sandbox-quoted">' in bubble.split("</div>")[0]

    # A message of another chat cannot be quoted.
    other = SandboxMessage.objects.create(
        device=sandbox_device, customer="6289999999999", direction="out", text="x"
    )
    write(client, sandbox_device, text="lagi", quote=other.pk)
    assert SandboxMessage.objects.get(direction="in", text="lagi").quoted is None


@pytest.mark.django_db
def test_a_forwarded_message(client, sandbox_device):
    write(client, sandbox_device, text="Promo dari teman", forwarded="on")
    assert Message.objects.get().is_forwarded is True
    assert "Forwarded" in chat_page(client, sandbox_device)
