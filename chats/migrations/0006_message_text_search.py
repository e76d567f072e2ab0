"""A GIN index for inbox search on PostgreSQL (chats.selectors._messages_matching): the same
expression Django's SearchVector("text", config="simple") compiles to, so the planner uses it.
SQLite has no such index; its search is a plain substring test."""

from django.db import migrations

INDEX = "msg_text_search"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON chats_message "
        "USING gin (to_tsvector('simple'::regconfig, COALESCE(text, '')))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("chats", "0005_message_is_poll_vote")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
