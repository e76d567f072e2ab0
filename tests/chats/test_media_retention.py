"""Retention: stored attachments older than MEDIA_RETENTION_DAYS are deleted, rows kept."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from chats.models import Message
from chats.services.media import attachment_copy_run, media_delete_older_than
from chats.tasks.media import media_retention

from .media_support import PDF_BYTES, chat_message, files_under

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def retention(django_capture_on_commit_callbacks):
    """Run retention and its after-commit file deletions, as in production."""

    def run(*, days: int) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return media_delete_older_than(days=days)

    return run


def stored_message(*, age_days: float, name: str = "a.pdf") -> Message:
    message = chat_message(url="https://files.example/x", name=name, extension="pdf")
    message.attachment_file.save(name, ContentFile(PDF_BYTES), save=False)
    message.attachment_state = Message.AttachmentState.STORED
    message.save()
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(days=age_days)
    )
    return Message.objects.get(pk=message.pk)


def test_old_attachments_are_deleted_and_new_ones_kept(media_root, retention):
    old = stored_message(age_days=91, name="old.pdf")
    new = stored_message(age_days=89, name="new.pdf")
    old_path = media_root / old.attachment_file.name

    assert retention(days=90) == 1

    old.refresh_from_db()
    new.refresh_from_db()
    assert not old_path.exists()
    assert old.attachment_file.name == ""
    assert old.attachment_state == Message.AttachmentState.DELETED
    assert old.attachment_name == "old.pdf"  # the row and what it said stay
    assert (media_root / new.attachment_file.name).read_bytes() == PDF_BYTES
    assert new.attachment_state == Message.AttachmentState.STORED


def test_retention_is_idempotent(media_root, retention):
    stored_message(age_days=100)

    assert retention(days=90) == 1
    assert retention(days=90) == 0


def test_zero_days_keeps_everything(media_root, retention):
    message = stored_message(age_days=5000)

    assert retention(days=0) == 0
    assert (media_root / message.attachment_file.name).exists()


def test_deleted_attachment_is_not_copied_again(media_root, retention):
    message = stored_message(age_days=100)
    retention(days=90)

    assert attachment_copy_run(message_id=message.pk) is False
    assert files_under(media_root) == []


def test_unsent_outgoing_uploads_past_retention_are_removed(media_root, retention):
    stale = default_storage.save("outgoing/2020/01/stale.pdf", ContentFile(PDF_BYTES))
    fresh = default_storage.save("outgoing/2026/11/fresh.pdf", ContentFile(PDF_BYTES))
    long_ago = (timezone.now() - timedelta(days=200)).timestamp()
    os.utime(media_root / stale, (long_ago, long_ago))

    assert retention(days=90) == 1

    assert not (media_root / stale).exists()
    assert (media_root / fresh).exists()


def test_beat_task_uses_the_setting(media_root, settings, django_capture_on_commit_callbacks):
    settings.MEDIA_RETENTION_DAYS = 30
    old = stored_message(age_days=31)
    path = media_root / old.attachment_file.name

    with django_capture_on_commit_callbacks(execute=True):
        assert media_retention.apply().get() == 1

    assert not path.exists()


def test_retention_has_a_daily_beat_entry(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["chats.media-retention"]
    assert entry["task"] == media_retention.name


def test_template_files_and_files_still_used_by_newer_messages_stay(media_root, retention):
    template_file = default_storage.save("quick-replies/menu.pdf", ContentFile(PDF_BYTES))
    upload = default_storage.save("outgoing/2026/01/offer.pdf", ContentFile(PDF_BYTES))
    from_template = chat_message(direction=Message.Direction.OUT)
    old_send = chat_message(direction=Message.Direction.OUT)
    resend = chat_message(direction=Message.Direction.OUT)
    Message.objects.filter(pk=from_template.pk).update(attachment_file=template_file)
    Message.objects.filter(pk=old_send.pk).update(attachment_file=upload)
    Message.objects.filter(pk=resend.pk).update(attachment_file=upload)
    Message.objects.filter(pk__in=[from_template.pk, old_send.pk]).update(
        created_at=timezone.now() - timedelta(days=365)
    )

    assert retention(days=90) == 1

    assert (media_root / template_file).exists()
    assert Message.objects.get(pk=from_template.pk).attachment_file.name == template_file
    assert Message.objects.get(pk=old_send.pk).attachment_file.name == ""
    assert (media_root / upload).read_bytes() == PDF_BYTES


def test_management_command_runs_retention_now(media_root, settings):
    settings.MEDIA_RETENTION_DAYS = 0
    old = stored_message(age_days=10)
    path = media_root / old.attachment_file.name
    out = io.StringIO()

    call_command("media_retention", stdout=out)
    assert path.exists()
    assert "nothing deleted" in out.getvalue()

    call_command("media_retention", "--days", "7", stdout=out)
    assert Message.objects.get(pk=old.pk).attachment_file.name == ""
    assert "Deleted 1 attachment(s) older than 7 days." in out.getvalue()
