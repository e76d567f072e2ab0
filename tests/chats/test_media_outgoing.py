"""Validating and storing an agent's attachment against Fonnte's limits (docs/ARCHITECTURE.md,
"Fonnte's protocol")."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from chats.media import outgoing_attachment_validate, safe_file_name
from chats.services.media import outgoing_attachment_store
from devices_app.gateways.fonnte import UPLOAD_MAX_BYTES as FONNTE_UPLOAD_MAX_BYTES

from .media_support import PDF_BYTES, PNG_BYTES


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def error_of(**kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        outgoing_attachment_validate(**kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("brochure.pdf", PDF_BYTES),
        ("photo.JPG", b"\xff\xd8\xff\xe0" + b"x" * 100),
        ("chart.png", PNG_BYTES),
        ("data.xlsx", b"PK\x03\x04"),
        ("song.mp3", b"ID3"),
        ("clip.mp4", b"\x00\x00\x00\x18ftyp"),
    ],
)
def test_supported_uploads_pass_and_return_the_name(name, content):
    assert outgoing_attachment_validate(uploaded_file=upload(name, content)) == name


def test_upload_over_4_mb_is_refused():
    big = upload("big.pdf", b"x" * (FONNTE_UPLOAD_MAX_BYTES + 1))

    error = error_of(uploaded_file=big)

    assert error.code == "too_large"
    assert "4 MB" in error.messages[0]


def test_upload_at_exactly_the_limit_passes():
    assert outgoing_attachment_validate(
        uploaded_file=upload("ok.pdf", b"x" * FONNTE_UPLOAD_MAX_BYTES)
    )


@pytest.mark.parametrize("name", ["virus.exe", "page.html", "noextension", "photo.gif", "a.svg"])
def test_unsupported_types_are_refused_with_the_list(name):
    error = error_of(uploaded_file=upload(name, b"data"))

    assert error.code == "extension"
    assert "pdf" in error.messages[0] and "mp3" in error.messages[0]


def test_image_extension_with_other_bytes_is_refused():
    assert error_of(uploaded_file=upload("fake.png", b"<html>")).code == "not_image"


def test_empty_upload_is_refused():
    assert error_of(uploaded_file=upload("a.pdf", b"")).code == "empty"


def test_exactly_one_source():
    assert error_of().code == "one_source"
    both = {"uploaded_file": upload("a.pdf", PDF_BYTES), "url": "https://x.example/a.pdf"}
    assert error_of(**both).code == "one_source"


def test_public_link_passes_and_gives_its_file_name(settings):
    settings.MEDIA_ALLOW_PRIVATE_URLS = False
    # A literal public address: no DNS needed to check it.
    url = "https://93.184.215.14/files/Price%20list.pdf?x=1"

    assert outgoing_attachment_validate(url=url) == "Price list.pdf"


def test_link_without_extension_passes(settings):
    settings.MEDIA_ALLOW_PRIVATE_URLS = False
    assert outgoing_attachment_validate(url="https://93.184.215.14/download") == "download"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.pdf",
        "http://10.1.2.3/a.pdf",
        "http://192.168.1.1/a.pdf",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/a.pdf",
        "http://localhost/a.pdf",
        "http://0.0.0.0/a.pdf",
    ],
)
def test_private_links_are_refused(settings, url):
    settings.MEDIA_ALLOW_PRIVATE_URLS = False

    error = error_of(url=url)

    assert error.code == "private_url"
    assert "private network" in error.messages[0]


@pytest.mark.parametrize("url", ["ftp://93.184.215.14/a.pdf", "javascript:alert(1)", "a.pdf"])
def test_non_http_links_are_refused(url):
    assert error_of(url=url).code == "invalid_url"


def test_link_to_an_unsupported_type_is_refused(settings):
    settings.MEDIA_ALLOW_PRIVATE_URLS = False
    assert error_of(url="https://93.184.215.14/page.html").code == "extension"


def test_store_saves_the_upload_privately_with_a_safe_name(media_root):
    stored = outgoing_attachment_store(uploaded_file=upload("../My Brochure (v2).pdf", PDF_BYTES))

    assert stored.startswith("outgoing/")
    assert stored.endswith("/My_Brochure_v2.pdf")
    assert (media_root / stored).read_bytes() == PDF_BYTES


def test_store_refuses_what_validation_refuses(media_root):
    with pytest.raises(ValidationError):
        outgoing_attachment_store(uploaded_file=upload("virus.exe", b"MZ"))
    assert not media_root.exists() or not any(media_root.rglob("*.exe"))


@pytest.mark.parametrize(
    ("name", "extension", "expected"),
    [
        ("report.final", "pdf", "report.final.pdf"),
        ("PHOTO.JPG", "jpg", "PHOTO.jpg"),
        ("", "pdf", "attachment.pdf"),
        ("", "", "attachment"),
        (".htaccess", "", "htaccess"),
        ("a" * 200 + ".pdf", "pdf", "a" * 56 + ".pdf"),
        ("C:\\Users\\x\\doc.docx", "", "doc.docx"),
        ("x.pdf", "p/d\\f", "x.pdf"),
    ],
)
def test_safe_file_name(name, extension, expected):
    assert safe_file_name(name, extension=extension) == expected
