"""Serving stored attachments privately and outgoing uploads through signed, expiring links."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404
from django.test import Client

from chats.media import (
    SIGNED_MEDIA_SALT,
    attachment_response,
    outgoing_file_from_signature,
    outgoing_file_signed_url,
)
from chats.models import Message

from .media_support import PDF_BYTES, PNG_BYTES, chat_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_BASE_URL = "https://sapa.example"
    return settings.MEDIA_ROOT


def message_with_file(*, name: str, content: bytes, stored_as: str | None = None) -> Message:
    message = chat_message(url="https://files.example/x", name=name)
    message.attachment_file.save(stored_as or name, ContentFile(content), save=True)
    return message


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


# --- attachment_response ------------------------------------------------------------------


def test_image_is_served_inline_with_its_real_type(media_root):
    message = message_with_file(name="photo.png", content=PNG_BYTES)

    response = attachment_response(message=message)

    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="photo.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body_of(response) == PNG_BYTES


def test_document_is_a_download_with_the_original_name(media_root):
    message = message_with_file(
        name="Laporan “Maret” 2026.pdf", content=PDF_BYTES, stored_as="laporan.pdf"
    )

    response = attachment_response(message=message)

    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert "Laporan%20%E2%80%9CMaret%E2%80%9D%202026.pdf" in disposition
    assert body_of(response) == PDF_BYTES


def test_html_pretending_to_be_an_image_is_a_download_of_opaque_bytes(media_root):
    message = message_with_file(name="cute.png", content=b"<html><script>alert(1)</script>")

    response = attachment_response(message=message)

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"]


def test_svg_is_never_inline(media_root):
    message = message_with_file(name="logo.svg", content=b"<svg onload='alert(1)'/>")

    response = attachment_response(message=message)

    assert response["Content-Disposition"].startswith("attachment;")


def test_no_stored_file_is_404(media_root):
    message = chat_message(url="https://files.example/x", name="a.pdf")

    with pytest.raises(Http404):
        attachment_response(message=message)


def test_file_missing_from_disk_is_404(media_root):
    message = message_with_file(name="a.pdf", content=PDF_BYTES)
    (media_root / message.attachment_file.name).unlink()

    with pytest.raises(Http404):
        attachment_response(message=message)


# --- Signed links -----------------------------------------------------------------------------


def test_signed_url_serves_the_file_without_login(media_root):
    stored = default_storage.save("outgoing/2026/11/brochure.pdf", ContentFile(PDF_BYTES))

    url = outgoing_file_signed_url(stored_name=stored)

    assert url.startswith("https://sapa.example/media/signed/")
    assert url.endswith("/brochure.pdf")
    response = Client().get(url.removeprefix("https://sapa.example"))
    assert response.status_code == 200
    assert body_of(response) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="brochure.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_signed_url_without_the_trailing_name_works_too(media_root):
    stored = default_storage.save("outgoing/2026/11/a.png", ContentFile(PNG_BYTES))
    signature = outgoing_file_signed_url(stored_name=stored).split("/")[-2]

    response = Client().get(f"/media/signed/{signature}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


def test_quick_reply_files_can_be_signed(media_root):
    stored = default_storage.save("quick-replies/menu.pdf", ContentFile(PDF_BYTES))

    assert (
        outgoing_file_from_signature(
            signature=outgoing_file_signed_url(stored_name=stored).split("/")[-2]
        ).stored_name
        == stored
    )


def test_tampered_signature_is_404(media_root):
    stored = default_storage.save("outgoing/2026/11/a.pdf", ContentFile(PDF_BYTES))
    url = outgoing_file_signed_url(stored_name=stored).removeprefix("https://sapa.example")
    signature = url.split("/")[-2]
    tampered = signature[:-1] + ("A" if signature[-1] != "A" else "B")

    assert Client().get(url.replace(signature, tampered)).status_code == 404


def test_signature_for_another_file_name_in_the_path_is_404(media_root):
    stored = default_storage.save("outgoing/2026/11/a.pdf", ContentFile(PDF_BYTES))
    url = outgoing_file_signed_url(stored_name=stored).removeprefix("https://sapa.example")

    assert Client().get(url.replace("/a.pdf", "/a.html")).status_code == 404


def test_expired_signature_is_404(media_root, settings):
    stored = default_storage.save("outgoing/2026/11/a.pdf", ContentFile(PDF_BYTES))

    class SignedTwoDaysAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 2 * 24 * 60 * 60)

    old_signature = SignedTwoDaysAgo(salt=SIGNED_MEDIA_SALT).sign_object(stored, compress=False)
    settings.SIGNED_MEDIA_MAX_AGE = 24 * 60 * 60

    assert Client().get(f"/media/signed/{old_signature}").status_code == 404
    with pytest.raises(Http404):
        outgoing_file_from_signature(signature=old_signature)


def test_signature_of_a_customer_attachment_is_refused(media_root):
    message = message_with_file(name="private.pdf", content=PDF_BYTES)
    stored = message.attachment_file.name

    with pytest.raises(ValueError):
        outgoing_file_signed_url(stored_name=stored)
    # Even a correctly signed name outside the signable folders is not served.
    forged = signing.TimestampSigner(salt=SIGNED_MEDIA_SALT).sign_object(stored, compress=False)
    assert Client().get(f"/media/signed/{forged}").status_code == 404


def test_path_tricks_are_not_signable(media_root):
    for name in ["outgoing/../attachments/x.pdf", "/outgoing/x.pdf", "outgoing//x.pdf"]:
        with pytest.raises(ValueError):
            outgoing_file_signed_url(stored_name=name)


def test_deleted_file_behind_a_valid_signature_is_404(media_root):
    stored = default_storage.save("outgoing/2026/11/a.pdf", ContentFile(PDF_BYTES))
    url = outgoing_file_signed_url(stored_name=stored).removeprefix("https://sapa.example")
    default_storage.delete(stored)

    assert Client().get(url).status_code == 404


def test_signed_media_answers_get_and_head_only(media_root):
    stored = default_storage.save("outgoing/2026/11/a.pdf", ContentFile(PDF_BYTES))
    url = outgoing_file_signed_url(stored_name=stored).removeprefix("https://sapa.example")

    assert Client().head(url).status_code == 200
    assert Client().post(url).status_code == 405


def test_name_without_extension_gets_the_stored_one(media_root):
    message = message_with_file(name="photo", content=PNG_BYTES, stored_as="photo.jpg")

    response = attachment_response(message=message)

    assert response["Content-Disposition"] == 'inline; filename="photo.jpg"'
    assert response["Content-Type"] == "image/png"  # the bytes decide, not the name
