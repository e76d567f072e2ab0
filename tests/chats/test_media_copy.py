"""Copying incoming attachments from the gateway into private storage (chats.services.media)."""

from __future__ import annotations

import gzip
import tempfile
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from chats.models import Message
from chats.services.media import AttachmentTemporarilyUnavailable, attachment_copy_run
from chats.tasks.media import attachment_copy, attachment_copy_sweep

from .media_support import (
    PDF_BYTES,
    PNG_BYTES,
    celery_worker,
    chat_message,
    files_under,
    wait_for,
)

AE = Message.AttachmentError


@pytest.fixture
def media_root(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ALLOW_PRIVATE_URLS = True  # the gateway here is a local test server
    # Downloads stream into temporary files: send them somewhere we can see.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return settings.MEDIA_ROOT


@pytest.fixture
def scratch(media_root):
    return media_root.parent / "scratch"


@pytest.mark.django_db
def test_copy_stores_the_same_bytes_privately_with_size_and_type(httpserver, media_root):
    httpserver.expect_request("/files/abc").respond_with_data(
        PDF_BYTES, content_type="application/pdf"
    )
    message = chat_message(
        url=httpserver.url_for("/files/abc"), name="Invoice March.pdf", extension="pdf"
    )

    assert attachment_copy_run(message_id=message.pk) is True

    message.refresh_from_db()
    assert message.attachment_state == Message.AttachmentState.STORED
    assert message.attachment_error == ""
    assert message.attachment_file.name.startswith("attachments/")
    assert message.attachment_file.name.endswith("/Invoice_March.pdf")
    assert (media_root / message.attachment_file.name).read_bytes() == PDF_BYTES
    assert message.attachment_size == len(PDF_BYTES)
    assert message.attachment_content_type == "application/pdf"


@pytest.mark.django_db
def test_image_content_type_comes_from_the_bytes(httpserver, media_root):
    httpserver.expect_request("/img").respond_with_data(PNG_BYTES, content_type="text/html")
    message = chat_message(url=httpserver.url_for("/img"), name="", extension="png")

    attachment_copy_run(message_id=message.pk)

    message.refresh_from_db()
    assert message.attachment_content_type == "image/png"
    assert message.attachment_file.name.endswith("/attachment.png")


@pytest.mark.django_db
def test_hostile_file_name_is_sanitised(httpserver, media_root):
    httpserver.expect_request("/x").respond_with_data(b"hello")
    message = chat_message(
        url=httpserver.url_for("/x"), name="../../etc/.pass\x1bwd\t<script>.txt", extension="txt"
    )

    attachment_copy_run(message_id=message.pk)

    message.refresh_from_db()
    stored = media_root / message.attachment_file.name
    assert stored.resolve().is_relative_to(media_root.resolve())
    assert stored.name == "passwd_script.txt"


@pytest.mark.django_db
def test_rerun_after_success_does_nothing(httpserver, media_root):
    httpserver.expect_request("/f").respond_with_data(PDF_BYTES)
    message = chat_message(url=httpserver.url_for("/f"), name="a.pdf", extension="pdf")
    attachment_copy_run(message_id=message.pk)
    stored_name = Message.objects.get(pk=message.pk).attachment_file.name

    assert attachment_copy_run(message_id=message.pk) is False
    attachment_copy.apply(args=[message.pk])

    assert len(httpserver.log) == 1
    assert Message.objects.get(pk=message.pk).attachment_file.name == stored_name
    assert len(files_under(media_root)) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [404, 410, 403])
def test_expired_link_marks_the_attachment_unavailable_once(httpserver, media_root, status):
    httpserver.expect_request("/gone").respond_with_data("not found", status=status)
    message = chat_message(url=httpserver.url_for("/gone"), name="a.jpg", extension="jpg")

    attachment_copy.apply(args=[message.pk])
    attachment_copy.apply(args=[message.pk])

    message.refresh_from_db()
    assert message.attachment_state == Message.AttachmentState.UNAVAILABLE
    assert message.attachment_error == AE.EXPIRED
    assert message.get_attachment_error_display().startswith("The gateway no longer has")
    assert not message.attachment_file
    assert len(httpserver.log) == 1  # the second run did not ask again
    assert files_under(media_root) == []


@pytest.mark.django_db
def test_too_large_by_declared_length_is_refused_without_reading(
    httpserver, media_root, scratch, settings
):
    settings.ATTACHMENT_MAX_BYTES = 1000
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000)
    message = chat_message(url=httpserver.url_for("/big"), name="big.pdf", extension="pdf")

    assert attachment_copy_run(message_id=message.pk) is False

    message.refresh_from_db()
    assert message.attachment_state == Message.AttachmentState.UNAVAILABLE
    assert message.attachment_error == AE.TOO_LARGE
    assert files_under(media_root) == []
    assert files_under(scratch) == []


@pytest.mark.django_db
def test_too_large_stream_without_length_is_aborted_and_leaves_no_partial_file(
    httpserver, media_root, scratch, settings
):
    settings.ATTACHMENT_MAX_BYTES = 100_000

    def endless(_request):
        # No Content-Length: the server streams chunks; the client must stop by itself.
        return Response((b"y" * 8192 for _ in range(1000)), content_type="video/mp4")

    httpserver.expect_request("/stream").respond_with_handler(endless)
    message = chat_message(url=httpserver.url_for("/stream"), name="v.mp4", extension="mp4")

    assert attachment_copy_run(message_id=message.pk) is False

    message.refresh_from_db()
    assert message.attachment_error == AE.TOO_LARGE
    assert files_under(media_root) == []
    assert files_under(scratch) == []


@pytest.mark.django_db
def test_private_address_is_refused_when_not_allowed(httpserver, media_root, settings):
    settings.MEDIA_ALLOW_PRIVATE_URLS = False
    httpserver.expect_request("/secret").respond_with_data(b"internal")
    message = chat_message(url=httpserver.url_for("/secret"), name="a.pdf", extension="pdf")

    attachment_copy_run(message_id=message.pk)

    message.refresh_from_db()
    assert message.attachment_error == AE.BLOCKED_ADDRESS
    assert len(httpserver.log) == 0


@pytest.mark.django_db
def test_ipv6_loopback_literal_is_refused_when_not_allowed(media_root, settings):
    settings.MEDIA_ALLOW_PRIVATE_URLS = False
    message = chat_message(url="http://[::1]:9/x", name="a.pdf", extension="pdf")

    attachment_copy_run(message_id=message.pk)

    assert Message.objects.get(pk=message.pk).attachment_error == AE.BLOCKED_ADDRESS


@pytest.mark.django_db
def test_redirects_are_followed(httpserver, media_root):
    httpserver.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": "/final"}
    )
    httpserver.expect_request("/final").respond_with_data(PDF_BYTES)
    message = chat_message(url=httpserver.url_for("/start"), name="a.pdf", extension="pdf")

    assert attachment_copy_run(message_id=message.pk) is True

    message.refresh_from_db()
    assert (media_root / message.attachment_file.name).read_bytes() == PDF_BYTES


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["ftp://example.com/a.pdf", "file:///etc/passwd", "http://"])
def test_non_http_links_are_refused(media_root, url):
    message = chat_message(url=url, name="a.pdf", extension="pdf")

    attachment_copy_run(message_id=message.pk)

    assert Message.objects.get(pk=message.pk).attachment_error == AE.INVALID_URL


@pytest.mark.django_db
def test_server_error_is_transient_and_changes_nothing(httpserver, media_root, scratch):
    httpserver.expect_request("/flaky").respond_with_data("busy", status=503)
    message = chat_message(url=httpserver.url_for("/flaky"), name="a.pdf", extension="pdf")

    with pytest.raises(AttachmentTemporarilyUnavailable):
        attachment_copy_run(message_id=message.pk)

    message.refresh_from_db()
    assert message.attachment_state == ""
    assert files_under(media_root) == []
    assert files_under(scratch) == []


@pytest.mark.django_db
def test_message_without_attachment_is_left_alone(media_root):
    message = chat_message(text="hello")

    assert attachment_copy_run(message_id=message.pk) is False
    assert Message.objects.get(pk=message.pk).attachment_state == ""


# --- With a real Celery worker: retries go through the broker ---------------------------------


@pytest.mark.django_db(transaction=True)
def test_worker_retries_a_transient_failure_then_stores(httpserver, media_root, settings):
    settings.ATTACHMENT_COPY_RETRY_BACKOFF = 0
    answers = iter([Response("busy", status=503), Response("busy", status=502)])

    def flaky(_request):
        return next(answers, None) or Response(PDF_BYTES)

    httpserver.expect_request("/f").respond_with_handler(flaky)
    message = chat_message(url=httpserver.url_for("/f"), name="a.pdf", extension="pdf")

    with celery_worker():
        attachment_copy.delay(message.pk)
        wait_for(lambda: Message.objects.get(pk=message.pk).attachment_state)

    message.refresh_from_db()
    assert message.attachment_state == Message.AttachmentState.STORED
    assert (media_root / message.attachment_file.name).read_bytes() == PDF_BYTES
    assert len(httpserver.log) == 3


@pytest.mark.django_db(transaction=True)
def test_worker_gives_up_after_the_retry_limit_with_a_reason(httpserver, media_root, settings):
    settings.ATTACHMENT_COPY_RETRY_BACKOFF = 0
    settings.ATTACHMENT_COPY_MAX_RETRIES = 2
    httpserver.expect_request("/down").respond_with_data("busy", status=503)
    message = chat_message(url=httpserver.url_for("/down"), name="a.pdf", extension="pdf")

    with celery_worker():
        attachment_copy.delay(message.pk)
        wait_for(lambda: Message.objects.get(pk=message.pk).attachment_state)

    message.refresh_from_db()
    assert message.attachment_state == Message.AttachmentState.UNAVAILABLE
    assert message.attachment_error == AE.UNREACHABLE
    assert len(httpserver.log) == 3  # the first try and two retries
    assert files_under(media_root) == []


@pytest.mark.django_db
def test_gzip_transfer_encoding_is_undone(httpserver, media_root):
    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress(PDF_BYTES), headers={"Content-Encoding": "gzip"}
    )
    message = chat_message(url=httpserver.url_for("/gz"), name="a.pdf", extension="pdf")

    attachment_copy_run(message_id=message.pk)

    message.refresh_from_db()
    assert (media_root / message.attachment_file.name).read_bytes() == PDF_BYTES
    assert message.attachment_size == len(PDF_BYTES)


@pytest.mark.django_db(transaction=True)
def test_sweep_recovers_lost_copies_and_gives_up_on_hopeless_ones(httpserver, media_root):
    httpserver.expect_request("/lost").respond_with_data(PDF_BYTES)
    httpserver.expect_request("/young").respond_with_data(PDF_BYTES)
    lost = chat_message(url=httpserver.url_for("/lost"), name="a.pdf", extension="pdf")
    young = chat_message(url=httpserver.url_for("/young"), name="b.pdf", extension="pdf")
    hopeless = chat_message(url=httpserver.url_for("/old"), name="c.pdf", extension="pdf")
    now = timezone.now()
    Message.objects.filter(pk=lost.pk).update(created_at=now - timedelta(minutes=15))
    Message.objects.filter(pk=young.pk).update(created_at=now - timedelta(minutes=2))
    Message.objects.filter(pk=hopeless.pk).update(created_at=now - timedelta(hours=2))

    with celery_worker():
        assert attachment_copy_sweep.apply().get() == 1
        wait_for(lambda: Message.objects.get(pk=lost.pk).attachment_state)

    assert Message.objects.get(pk=lost.pk).attachment_state == Message.AttachmentState.STORED
    assert Message.objects.get(pk=young.pk).attachment_state == ""  # its own task may be running
    hopeless.refresh_from_db()
    assert hopeless.attachment_state == Message.AttachmentState.UNAVAILABLE
    assert hopeless.attachment_error == AE.UNREACHABLE
    assert [entry[0].path for entry in httpserver.log] == ["/lost"]


@pytest.mark.django_db
def test_an_agents_outbound_link_is_not_copied(httpserver, media_root):
    httpserver.expect_request("/mine.pdf").respond_with_data(PDF_BYTES)
    message = chat_message(
        url=httpserver.url_for("/mine.pdf"), name="mine.pdf", direction=Message.Direction.OUT
    )
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(hours=2))

    assert attachment_copy_run(message_id=message.pk) is False
    assert attachment_copy_sweep.apply().get() == 0

    assert Message.objects.get(pk=message.pk).attachment_state == ""
    assert len(httpserver.log) == 0
