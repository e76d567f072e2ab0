"""Indexes the board and the reports need on chats' tables (time ranges over messages and
conversations). Created here, in plain SQL that SQLite and PostgreSQL both accept, so the
supervision app owns what only it reads and the chats migrations stay as they are; `IF NOT
EXISTS` makes it safe if chats ever declares the same index under the same name."""

from django.db import migrations

INDEXES = [
    ("sup_msg_created", "chats_message", "created_at"),
    ("sup_conv_opened", "chats_conversation", "opened_at"),
    ("sup_conv_resolved", "chats_conversation", "resolved_at"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0001_initial"),
        ("chats", "0005_message_is_poll_vote"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, column in INDEXES
    ]
