"""Delete stored attachments past the retention period now (the beat task does it daily)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from chats.services.media import media_delete_older_than


class Command(BaseCommand):
    help = "Delete stored attachments of messages older than MEDIA_RETENTION_DAYS (or --days)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Override MEDIA_RETENTION_DAYS for this run (0 deletes nothing).",
        )

    def handle(self, *args, days: int | None, **options):
        days = settings.MEDIA_RETENTION_DAYS if days is None else days
        if days <= 0:
            self.stdout.write("Retention is off (0 days): nothing deleted.")
            return
        deleted = media_delete_older_than(days=days)
        self.stdout.write(f"Deleted {deleted} attachment(s) older than {days} days.")
