"""The reply box's tools through their views (chats/views_compose.py): each send kind reaches
the database with the right fields and one send task (a note with none), refusals say why
(beside the field for the panels) and store nothing, the "/" picker filters and fills in, and
every endpoint answers 404 for a chat the agent may not see."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from chats.models import Conversation, Message
from templates_app.models import Poll, QuickReply
from tests.factories import ContactFactory, ConversationFactory, DeviceFactory, DivisionFactory
from tests.workers import broker_tasks

from .media_support import PDF_BYTES, PNG_BYTES, files_under

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
OPEN = Conversation.Status.OPEN
SEND_TASK = "chats.send_message"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_BASE_URL = "https://sapa.example"
    # The test links point at documentation addresses; nothing resolves them here.
    settings.MEDIA_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def ani(sales_agents):
    return sales_agents[0]


@pytest.fixture
def client(ani) -> Client:
    client = Client()
    response = client.post(
        reverse("agents:login"),
        {"device_number": ani.agent.device.number, "token": ani.token},
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def mine(fonnte_device, ani) -> Conversation:
    contact = ContactFactory(device=fonnte_device, address="6282100000001", name="Rama")
    return ConversationFactory(contact=contact, agent=ani.agent, status=OPEN)


def incoming(conversation: Conversation, text: str = "Berapa harganya?", **fields) -> Message:
    return Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.IN,
        text=text,
        **fields,
    )


def send_tasks() -> list:
    return [task for task in broker_tasks() if task.name == SEND_TASK]


def post(client, name, conversation, data, capture, **kwargs):
    """Post like htmx does, running the on-commit effects (send task enqueue, push)."""
    with capture(execute=True):
        return client.post(reverse(f"chats:{name}", args=[conversation.pk]), data, **kwargs)


# --- The box: text, quote, note -----------------------------------------------------------------


def test_a_text_reply_answers_with_its_bubble_and_enqueues_one_send(
    client, mine, django_capture_on_commit_callbacks
):
    response = post(
        client,
        "conversation_send",
        mine,
        {"mode": "reply", "text": "Halo Rama", "quoted": "", "quick_reply": ""},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "sapa:sent"
    message = Message.objects.get(direction=Message.Direction.OUT)
    assert (message.text, message.status, message.quoted_id) == ("Halo Rama", "queued", None)
    html = response.content.decode()
    assert f'hx-swap-oob="beforeend:#thread-{mine.pk}-messages"' in html
    assert f'id="message-{message.pk}"' in html
    assert [task.args for task in send_tasks()] == [[message.pk]]


def test_line_breaks_from_a_multipart_post_are_stored_as_newlines(
    client, mine, django_capture_on_commit_callbacks
):
    # The box posts multipart/form-data, where browsers send a textarea's breaks as CRLF.
    post(
        client,
        "conversation_send",
        mine,
        {"text": "Halo Rama,\r\npaket A"},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert Message.objects.get().text == "Halo Rama,\npaket A"


def test_a_quote_reply_stores_what_it_quotes_and_shows_it_above_the_text(
    client, mine, django_capture_on_commit_callbacks
):
    question = incoming(mine, "Berapa harga paket A?\nDan paket B?")
    response = post(
        client,
        "conversation_send",
        mine,
        {"mode": "reply", "text": "Paket A Rp 100.000", "quoted": str(question.pk)},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 200
    reply = Message.objects.get(direction=Message.Direction.OUT)
    assert reply.quoted_id == question.pk
    html = response.content.decode()
    assert 'class="message-quoted"' in html
    assert "Rama" in html and "Berapa harga paket A?" in html
    assert "Dan paket B?" not in html.split('class="message-quoted"')[1].split("</blockquote>")[0]

    # The thread shows it too, and offers Reply on the customer's message.
    page = client.get(reverse("chats:conversation", args=[mine.pk])).content.decode()
    assert f'data-quote="{question.pk}"' in page
    assert 'data-quote-snippet="Berapa harga paket A?"' in page


def test_quoting_a_message_of_another_chat_is_refused_and_stores_nothing(
    client, mine, fonnte_device, django_capture_on_commit_callbacks
):
    elsewhere = ConversationFactory(contact=ContactFactory(device=fonnte_device), status=OPEN)
    foreign = incoming(elsewhere)
    for quoted in (str(foreign.pk), "abc", "²", "9" * 5000):
        response = post(
            client,
            "conversation_send",
            mine,
            {"text": "Halo", "quoted": quoted},
            django_capture_on_commit_callbacks,
            headers=HX,
        )
        assert response.status_code == 422
        assert "The quoted message is not part of this chat." in response.content.decode()
    assert not Message.objects.filter(direction=Message.Direction.OUT).exists()
    assert send_tasks() == []


def test_note_mode_stores_a_note_that_never_becomes_a_send(
    client, mine, django_capture_on_commit_callbacks
):
    question = incoming(mine)
    response = post(
        client,
        "conversation_send",
        mine,
        # A quote left over from Reply mode is ignored: notes quote nothing.
        {"mode": "note", "text": "Pelanggan VIP, beri diskon", "quoted": str(question.pk)},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 200
    note = Message.objects.get(direction=Message.Direction.NOTE)
    assert (note.text, note.sender_agent_id, note.quoted_id) == (
        "Pelanggan VIP, beri diskon",
        mine.agent_id,
        None,
    )
    assert "Internal note" in response.content.decode()
    assert "only your team sees this" in response.content.decode()
    assert send_tasks() == []
    assert not Message.objects.filter(direction=Message.Direction.OUT).exists()


def test_a_note_with_an_attachment_is_refused(client, mine, django_capture_on_commit_callbacks):
    response = post(
        client,
        "conversation_send",
        mine,
        {"mode": "note", "text": "lihat", "attachment": SimpleUploadedFile("a.pdf", PDF_BYTES)},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 422
    assert "A note is text only" in response.content.decode()
    assert not Message.objects.exists()


def test_a_chat_waiting_in_the_queue_takes_notes_but_not_replies(
    client, fonnte_device, django_capture_on_commit_callbacks
):
    queued = ConversationFactory(contact=ContactFactory(device=fonnte_device))
    page = client.get(reverse("chats:conversation", args=[queued.pk])).content.decode()
    assert "data-note-box" in page and "data-enter-sends" not in page

    refused = post(
        client,
        "conversation_send",
        queued,
        {"text": "Halo"},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert refused.status_code == 422
    assert "not assigned to you" in refused.content.decode()
    noted = post(
        client,
        "conversation_send",
        queued,
        {"mode": "note", "text": "Saya ambil setelah makan siang"},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert noted.status_code == 200
    assert Message.objects.get().direction == Message.Direction.NOTE
    assert send_tasks() == []


def test_a_plain_post_redirects_and_a_refused_one_shows_the_page_with_the_reason(
    client, mine, django_capture_on_commit_callbacks
):
    response = post(
        client, "conversation_send", mine, {"text": "Halo"}, django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("chats:conversation", args=[mine.pk])
    refused = post(
        client, "conversation_send", mine, {"text": "  "}, django_capture_on_commit_callbacks
    )
    assert refused.status_code == 422
    assert "Write a message first." in refused.content.decode()


# --- Attachments ------------------------------------------------------------------------------


def test_an_uploaded_image_is_stored_with_its_caption_and_previewed(
    client, mine, settings, django_capture_on_commit_callbacks
):
    response = post(
        client,
        "conversation_send",
        mine,
        {"text": "Ini fotonya", "attachment": SimpleUploadedFile("Foto produk.png", PNG_BYTES)},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 200
    message = Message.objects.get(direction=Message.Direction.OUT)
    assert message.text == "Ini fotonya"
    assert message.attachment_file.name.startswith("outgoing/")
    assert (message.attachment_name, message.attachment_size) == ("Foto produk.png", len(PNG_BYTES))
    html = response.content.decode()
    url = reverse("chats:attachment", args=[message.pk])
    assert f'<img src="{url}" alt="Foto produk.png" loading="lazy"' in html
    assert [task.args for task in send_tasks()] == [[message.pk]]


def test_an_uploaded_document_is_linked_with_its_name_and_size(
    client, mine, django_capture_on_commit_callbacks
):
    post(
        client,
        "conversation_send",
        mine,
        {"text": "", "attachment": SimpleUploadedFile("Daftar harga.pdf", PDF_BYTES)},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    message = Message.objects.get(direction=Message.Direction.OUT)
    assert message.text == ""  # the caption is optional
    html = client.get(reverse("chats:conversation", args=[mine.pk])).content.decode()
    assert "Daftar harga.pdf" in html
    assert "PDF · 2.9\xa0KB" in html
    assert "<img" not in html.split(f'id="message-{message.pk}"')[1].split("</article>")[0]


def test_a_link_attachment_is_stored_as_its_url(client, mine, django_capture_on_commit_callbacks):
    post(
        client,
        "conversation_send",
        mine,
        {"text": "Katalog", "attachment_url": "https://files.example.com/Katalog%202026.pdf"},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    message = Message.objects.get(direction=Message.Direction.OUT)
    assert message.attachment_url == "https://files.example.com/Katalog%202026.pdf"
    assert message.attachment_name == "Katalog 2026.pdf"
    assert not message.attachment_file


@pytest.mark.parametrize(
    ("upload", "reason"),
    [
        (
            SimpleUploadedFile("besar.pdf", b"%PDF" + b"x" * 4_000_000),
            "The file is larger than 4 MB",
        ),
        (SimpleUploadedFile("setup.exe", b"MZ..."), "accept only these file types"),
        (SimpleUploadedFile("palsu.png", b"<svg onload=alert(1)>"), "not a PNG or JPEG"),
    ],
    ids=["too-big", "wrong-type", "fake-image"],
)
def test_a_refused_upload_says_why_and_stores_nothing(
    client, mine, settings, upload, reason, django_capture_on_commit_callbacks
):
    response = post(
        client,
        "conversation_send",
        mine,
        {"text": "lihat", "attachment": upload},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 422
    assert reason in response.content.decode()
    assert not Message.objects.exists()
    assert not settings.MEDIA_ROOT.exists() or files_under(settings.MEDIA_ROOT) == []
    assert send_tasks() == []


def test_a_file_and_a_link_together_are_refused(client, mine, django_capture_on_commit_callbacks):
    response = post(
        client,
        "conversation_send",
        mine,
        {
            "text": "x",
            "attachment": SimpleUploadedFile("a.pdf", PDF_BYTES),
            "attachment_url": "https://files.example.com/b.pdf",
        },
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 422
    assert not Message.objects.exists()


def test_the_box_checks_type_and_size_in_the_browser_too(client, mine):
    html = client.get(reverse("chats:conversation", args=[mine.pk])).content.decode()
    assert 'type="file" name="attachment" accept=".avi,.csv,.doc,.docx,.jpeg,.jpg,' in html
    assert 'data-max-bytes="4000000"' in html
    assert 'hx-encoding="multipart/form-data"' in html


# --- Quick replies ----------------------------------------------------------------------------


@pytest.fixture
def templates(fonnte_device):
    other_division = DivisionFactory(name="Elsewhere")
    office = QuickReply.objects.create(
        shortcut="office",
        title="Office location",
        text="Halo {name}, ini kantor kami. Salam, {agent} ({device}).",
        location_lat=Decimal("-6.175392"),
        location_lng=Decimal("106.827153"),
    )
    office.attachment_file.save("brosur.pdf", ContentFile(PDF_BYTES))
    return {
        "office": office,
        "thanks": QuickReply.objects.create(
            shortcut="thanks", title="Terima kasih", text="Terima kasih {name}!"
        ),
        "division": QuickReply.objects.create(
            shortcut="ongkir",
            title="Ongkos kirim",
            text="Ongkir gratis, {name}.",
            division=fonnte_device.division,
        ),
        "elsewhere": QuickReply.objects.create(
            shortcut="rahasia", title="Other division", text="x", division=other_division
        ),
    }


def test_the_picker_lists_the_agents_templates_filled_in_for_this_chat(client, mine, templates):
    response = client.get(reverse("chats:quick_reply_picker", args=[mine.pk]), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('role="option"') == 3  # global + own division, not another division's
    assert "/rahasia" not in html
    assert f'id="reply-{mine.pk}-qr-{templates["thanks"].pk}"' in html
    assert 'data-text="Terima kasih Rama!"' in html
    device = mine.device.name
    assert f'data-text="Halo Rama, ini kantor kami. Salam, Ani ({device})."' in html
    assert 'data-attachment="brosur.pdf"' in html and 'data-location="Location"' in html

    typed = client.get(reverse("chats:quick_reply_picker", args=[mine.pk]), {"q": "ong"})
    assert typed.content.decode().count('role="option"') == 1
    assert "/ongkir" in typed.content.decode()
    nothing = client.get(reverse("chats:quick_reply_picker", args=[mine.pk]), {"q": "zzz"})
    assert "No quick reply matches “zzz”." in nothing.content.decode()
    assert 'aria-disabled="true"' in nothing.content.decode()


def test_a_quick_reply_sends_the_edited_text_with_the_templates_file_and_location(
    client, mine, templates, django_capture_on_commit_callbacks
):
    office = templates["office"]
    question = incoming(mine)
    response = post(
        client,
        "conversation_send",
        mine,
        {
            "text": "Halo Rama, ini kantor kami (edited).",
            "quick_reply": str(office.pk),
            "quoted": str(question.pk),
        },
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 200
    first, second = Message.objects.filter(direction=Message.Direction.OUT).order_by("pk")
    assert first.text == "Halo Rama, ini kantor kami (edited)."
    assert first.attachment_file.name == office.attachment_file.name
    assert first.attachment_name == "brosur.pdf"
    assert first.quoted_id == question.pk
    assert (second.location_lat, second.location_lng) == (
        Decimal("-6.175392"),
        Decimal("106.827153"),
    )
    html = response.content.decode()
    assert f'id="message-{first.pk}"' in html and f'id="message-{second.pk}"' in html
    assert sorted(task.args[0] for task in send_tasks()) == [first.pk, second.pk]


def test_a_quick_reply_is_looked_up_for_the_agent_never_trusted_from_the_browser(
    client, mine, templates, django_capture_on_commit_callbacks
):
    # Another division's template: as if it did not exist.
    gone = post(
        client,
        "conversation_send",
        mine,
        {"text": "x", "quick_reply": str(templates["elsewhere"].pk)},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert gone.status_code == 422
    assert "This quick reply is no longer available." in gone.content.decode()
    # A link smuggled beside a template is refused, not sent with it.
    smuggled = post(
        client,
        "conversation_send",
        mine,
        {
            "text": "x",
            "quick_reply": str(templates["office"].pk),
            "attachment_url": "https://evil.example/x.pdf",
        },
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert smuggled.status_code == 422
    assert not Message.objects.exists()


# --- Polls ------------------------------------------------------------------------------------


def test_the_poll_panel_offers_the_divisions_saved_polls_only(client, mine, fonnte_device):
    Poll.objects.create(name="Puas dengan layanan kami?", choices=["Ya", "Tidak"])
    Poll.objects.create(
        name="Pilih cabang", choices=["Jakarta", "Bandung"], division=fonnte_device.division
    )
    Poll.objects.create(name="Lain divisi", choices=["a", "b"], division=DivisionFactory())
    Poll.objects.create(name="Nonaktif", choices=["a", "b"], is_active=False)
    html = client.get(reverse("chats:conversation_poll", args=[mine.pk]), headers=HX)
    html = html.content.decode()
    assert f'id="composer-{mine.pk}-poll"' in html
    assert "Puas dengan layanan kami?" in html and "Pilih cabang" in html
    assert "Lain divisi" not in html and "Nonaktif" not in html
    assert html.count('name="choices"') == 3


def test_a_saved_poll_is_sent_with_its_choices(client, mine, django_capture_on_commit_callbacks):
    saved = Poll.objects.create(name="Puas?", choices=["Ya", "Tidak"], multiple=True)
    response = post(
        client,
        "conversation_poll",
        mine,
        {"saved_poll": str(saved.pk), "question": "", "choices": ["", ""]},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 200
    message = Message.objects.get(direction=Message.Direction.OUT)
    assert (message.poll_name, message.poll_choices, message.poll_multiple) == (
        "Puas?",
        ["Ya", "Tidak"],
        True,
    )
    html = response.content.decode()
    # The panel comes back closed, the bubble is appended.
    closed = f'<div id="composer-{mine.pk}-poll" class="composer-panel composer-tool"'
    assert f'{closed} data-composer-tool="poll" hidden></div>' in html
    assert f'id="message-{message.pk}"' in html
    assert response["HX-Trigger"] == "sapa:sent"
    assert [task.args for task in send_tasks()] == [[message.pk]]


def test_an_ad_hoc_poll_is_normalized_and_sent(client, mine, django_capture_on_commit_callbacks):
    question = incoming(mine)
    post(
        client,
        "conversation_poll",
        mine,
        {
            "saved_poll": "",
            "question": "  Jam berapa   kami telepon? ",
            "choices": ["Pagi", " Siang ", "", "Sore"],
            "select": "multiple",
            "quoted": str(question.pk),
        },
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    message = Message.objects.get(direction=Message.Direction.OUT)
    assert (message.poll_name, message.poll_choices, message.poll_multiple) == (
        "Jam berapa kami telepon?",
        ["Pagi", "Siang", "Sore"],
        True,
    )
    assert message.quoted_id == question.pk


@pytest.mark.parametrize(
    ("question", "choices", "reasons"),
    [
        ("Warna?", ["Merah, tua", "Biru"], ["“Merah, tua” has a comma"]),
        ("Warna?", ["Merah", "merah"], ["“merah” is given more than once"]),
        ("Warna?", ["Merah", "", ""], ["Give 2 to 12 choices (you gave 1)."]),
        ("", ["Merah", "Biru"], ["This field is required."]),
        ("Warna?", [f"Pilihan {n}" for n in range(13)], ["Give 2 to 12 choices (you gave 13)."]),
    ],
    ids=["comma", "duplicate", "too-few", "no-question", "too-many"],
)
def test_a_refused_poll_says_why_beside_each_field_and_stores_nothing(
    client, mine, question, choices, reasons, django_capture_on_commit_callbacks
):
    response = post(
        client,
        "conversation_poll",
        mine,
        {"question": question, "choices": choices, "select": "single"},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 422
    html = response.content.decode()
    for reason in reasons:
        assert reason in html
    assert 'aria-invalid="true"' in html
    # What the agent typed is still there to correct.
    assert 'value="Warna?"' in html or not question
    assert not Message.objects.exists()


def test_another_divisions_saved_poll_is_refused(client, mine, django_capture_on_commit_callbacks):
    theirs = Poll.objects.create(name="x", choices=["a", "b"], division=DivisionFactory())
    response = post(
        client,
        "conversation_poll",
        mine,
        {"saved_poll": str(theirs.pk)},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 422
    assert "This saved poll is no longer available." in response.content.decode()
    assert not Message.objects.exists()


# --- Locations --------------------------------------------------------------------------------


def test_a_location_is_sent_with_six_decimals(client, mine, django_capture_on_commit_callbacks):
    response = post(
        client,
        "conversation_location",
        mine,
        {"latitude": " -7.9839081 ", "longitude": "112.621391"},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 200
    message = Message.objects.get(direction=Message.Direction.OUT)
    assert (message.location_lat, message.location_lng) == (
        Decimal("-7.983908"),
        Decimal("112.621391"),
    )
    html = response.content.decode()
    assert f'id="composer-{mine.pk}-location"' in html and "hidden>" in html
    assert "openstreetmap.org/?mlat=-7.983908" in html
    assert [task.args for task in send_tasks()] == [[message.pk]]


def test_a_location_typed_with_decimal_commas_is_read(
    client, mine, django_capture_on_commit_callbacks
):
    # How Indonesian agents write numbers; a comma with a point as well stays refused.
    response = post(
        client,
        "conversation_location",
        mine,
        {"latitude": "-6,2088", "longitude": "106,845599"},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 200
    message = Message.objects.get(direction=Message.Direction.OUT)
    assert (message.location_lat, message.location_lng) == (
        Decimal("-6.208800"),
        Decimal("106.845599"),
    )
    refused = post(
        client,
        "conversation_location",
        mine,
        {"latitude": "-6,208.8", "longitude": "106.8"},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert refused.status_code == 422
    assert "The latitude must be a number from -90 to 90." in refused.content.decode()


def test_refused_coordinates_are_explained_beside_their_fields(
    client, mine, django_capture_on_commit_callbacks
):
    response = post(
        client,
        "conversation_location",
        mine,
        {"latitude": "91", "longitude": "abc"},
        django_capture_on_commit_callbacks,
        headers=HX,
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="composer-{mine.pk}-lat-error"' in html
    assert "The latitude must be a number from -90 to 90." in html
    assert f'id="composer-{mine.pk}-lng-error"' in html
    assert "The longitude must be a number from -180 to 180." in html
    assert 'value="91"' in html and 'value="abc"' in html
    assert not Message.objects.exists()


# --- Access -----------------------------------------------------------------------------------


@pytest.fixture
def not_mine(fonnte_device, sales_agents):
    budi = sales_agents[1].agent
    colleague = ConversationFactory(
        contact=ContactFactory(device=fonnte_device), agent=budi, status=OPEN
    )
    other_device = DeviceFactory(division=DivisionFactory(name="Elsewhere"))
    other_division = ConversationFactory(contact=ContactFactory(device=other_device))
    return [colleague, other_division]


@pytest.mark.parametrize(
    ("name", "method", "data"),
    [
        ("conversation_send", "post", {"text": "Halo"}),
        ("conversation_send", "post", {"mode": "note", "text": "Hm"}),
        ("quick_reply_picker", "get", {}),
        ("conversation_poll", "get", {}),
        ("conversation_poll", "post", {"question": "Q", "choices": ["a", "b"]}),
        ("conversation_location", "post", {"latitude": "1", "longitude": "2"}),
    ],
)
def test_a_chat_the_agent_may_not_see_answers_404(client, not_mine, name, method, data):
    for conversation in not_mine:
        url = reverse(f"chats:{name}", args=[conversation.pk])
        response = getattr(client, method)(url, data, headers=HX)
        assert response.status_code == 404, (name, conversation)
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "name", ["conversation_send", "conversation_poll", "conversation_location"]
)
def test_posts_need_the_csrf_token(ani, mine, name):
    client = Client(enforce_csrf_checks=True)
    client.post(
        reverse("agents:login"), {"device_number": ani.agent.device.number, "token": ani.token}
    )
    response = client.post(reverse(f"chats:{name}", args=[mine.pk]), {"text": "Halo"})
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_sends_are_post_only(client, mine):
    assert client.get(reverse("chats:conversation_send", args=[mine.pk])).status_code == 405
    assert client.get(reverse("chats:conversation_location", args=[mine.pk])).status_code == 405


# --- The box and the thread as rendered -------------------------------------------------------


def test_the_reply_box_has_its_tools_and_an_accessible_picker(client, mine):
    html = client.get(reverse("chats:conversation", args=[mine.pk])).content.decode()
    assert 'role="combobox"' in html and 'aria-expanded="false"' in html
    assert f'aria-controls="reply-{mine.pk}-picker"' in html
    assert f'id="reply-{mine.pk}-picker" class="picker" role="listbox"' in html
    for tool in ("quick-replies", "attach", "poll", "location"):
        assert f'data-tool="{tool}"' in html
    assert 'name="mode" value="note"' in html
    assert f'id="composer-{mine.pk}-location"' in html
    assert 'inputmode="decimal"' in html
    assert "js/composer.js" in html and "css/composer.css" in html


def test_incoming_images_preview_and_files_show_name_and_size(client, mine, settings):
    image = incoming(mine, text="", attachment_name="struk.jpg", attachment_extension="jpg")
    image.attachment_file.save("struk.jpg", ContentFile(PNG_BYTES))
    Message.objects.filter(pk=image.pk).update(
        attachment_state="stored", attachment_content_type="image/png"
    )
    document = incoming(mine, text="", attachment_name="invoice.pdf", attachment_extension="pdf")
    document.attachment_file.save("invoice.pdf", ContentFile(PDF_BYTES))
    Message.objects.filter(pk=document.pk).update(attachment_size=1_500_000)

    html = client.get(reverse("chats:conversation", args=[mine.pk])).content.decode()
    image_url = reverse("chats:attachment", args=[image.pk])
    assert f'<a class="message-image" href="{image_url}"' in html
    assert f'<img src="{image_url}" alt="struk.jpg" loading="lazy"' in html
    assert "invoice.pdf" in html and "PDF · 1.4\xa0MB" in html
    assert client.get(image_url).status_code == 200


@pytest.mark.parametrize("bad_id", ["²", "9" * 5000])
def test_ids_that_are_not_plain_digits_are_clear_errors_not_crashes(
    client, mine, bad_id, django_capture_on_commit_callbacks
):
    # str.isdigit() is true for "²", and int() refuses more than 4,300 digits.
    answers = [
        (
            post(
                client,
                "conversation_send",
                mine,
                {"text": "x", "quick_reply": bad_id},
                django_capture_on_commit_callbacks,
                headers=HX,
            ),
            "This quick reply is no longer available.",
        ),
        (
            post(
                client,
                "conversation_poll",
                mine,
                {"saved_poll": bad_id},
                django_capture_on_commit_callbacks,
                headers=HX,
            ),
            "This saved poll is no longer available.",
        ),
    ]
    for response, reason in answers:
        assert response.status_code == 422
        assert reason in response.content.decode()
    assert not Message.objects.filter(direction=Message.Direction.OUT).exists()
    # The inbox's label filter ignores it rather than failing.
    assert client.get(reverse("chats:inbox"), {"label": bad_id}).status_code == 200
