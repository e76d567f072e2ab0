"""What the console and the logs say (config/logs.py): the periodic tasks stay at DEBUG until they
do something, a refused page is one line, every request warning is printed once, the request id,
and the favicon the admin pages ask for."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from chats.models import Conversation, Message
from chats.tasks import (
    attachment_copy_sweep,
    media_retention,
    presence_sweep_task,
    queue_drain_task,
    sweep_stuck_messages,
)
from config.logs import REQUEST_ID_HEADER
from tests.factories import (
    AgentFactory,
    ContactFactory,
    ConversationFactory,
    DeviceFactory,
    DivisionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PERIODIC = [
    queue_drain_task,
    presence_sweep_task,
    sweep_stuck_messages,
    attachment_copy_sweep,
    media_retention,
]


def test_periodic_tasks_that_find_nothing_log_only_at_debug(caplog):
    caplog.set_level(logging.DEBUG)
    for task in PERIODIC:
        task()

    own = [r for r in caplog.records if r.name.startswith("chats.tasks")]
    assert len(own) == len(PERIODIC)  # each says it ran, for whoever debugs
    assert {r.levelname for r in own} == {"DEBUG"}
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


def test_a_queue_drain_that_assigns_logs_one_info_line_with_its_counts(caplog):
    division = DivisionFactory(online_only=False)
    device = DeviceFactory(division=division)
    AgentFactory(device=device, division=division)
    for _ in range(2):
        ConversationFactory(contact=ContactFactory(device=device), status="queued")
    caplog.set_level(logging.DEBUG)

    queue_drain_task()

    summary = [r for r in caplog.records if r.name == "chats.tasks.assignment"]
    assert [(r.levelname, r.getMessage()) for r in summary] == [
        ("INFO", f"queue drain assigned 2 chats (by division: {{{division.pk}: 2}})")
    ]
    assert not Conversation.objects.filter(status="queued").exists()


def test_a_send_sweep_that_acts_logs_one_info_line_with_its_counts(caplog):
    conversation = ConversationFactory(status="open")
    message = Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.OUT,
        text="Halo",
        status=Message.Status.QUEUED,
        next_attempt_at=timezone.now() - timedelta(hours=1),
    )
    caplog.set_level(logging.DEBUG)

    sweep_stuck_messages()

    info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert info == ["send sweep: 0 unconfirmed, 1 re-enqueued"]
    message.refresh_from_db()
    assert message.next_attempt_at > timezone.now() - timedelta(minutes=1)


def test_a_refused_page_logs_one_line_without_a_traceback(client, caplog):
    # A signed-in user who is neither an agent nor staff opens the agents' inbox: 403.
    client.force_login(UserFactory())
    response = client.get(reverse("chats:inbox"))

    assert response.status_code == 403
    refused = [r for r in caplog.records if r.name == "django.request"]
    assert [(r.levelname, r.getMessage()) for r in refused] == [
        ("WARNING", "Forbidden (Permission denied): /inbox")
    ]
    assert refused[0].exc_info is None


def test_the_favicon_browsers_ask_for_is_sapas(client, caplog):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert [r for r in caplog.records if r.name == "django.request"] == []


def test_every_response_names_its_request_id(client):
    first = client.get("/favicon.ico")[REQUEST_ID_HEADER]
    second = client.get("/favicon.ico")[REQUEST_ID_HEADER]
    assert len(first) == 32 and first != second


@pytest.mark.parametrize(
    ("trusted", "sent", "kept"),
    [
        (False, "proxy-id-1234567", False),  # a client may not choose it
        (True, "proxy-id-1234567", True),
        (True, "a b\ninjected line", False),  # never a forged log line
        (True, "x" * 200, False),
    ],
)
def test_a_proxys_request_id_is_kept_only_when_trusted_and_well_formed(
    client, settings, trusted, sent, kept
):
    settings.TRUST_REQUEST_ID_HEADER = trusted
    answered = client.get("/favicon.ico", headers={REQUEST_ID_HEADER: sent})[REQUEST_ID_HEADER]
    assert (answered == sent) is kept
    assert len(answered) == 32 or kept


def _console_of(code: str, **env: str) -> str:
    """What a fresh process prints on its console (stderr) running `code` under Django."""
    environment = {
        **{k: v for k, v in os.environ.items() if k not in ("LOG_FORMAT", "LOG_LEVEL")},
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        # As in pytest's own settings: tests run without collectstatic.
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
        **env,
    }
    prelude = "import django; django.setup(); from django.test import Client; c = Client(); "
    result = subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_a_request_warning_is_printed_once_in_development():
    console = _console_of("c.get('/no-such-page', HTTP_HOST='127.0.0.1')", DJANGO_DEBUG="true")
    assert console.count("Not Found: /no-such-page") == 1, console


def test_json_logs_are_one_object_per_line_with_the_request_id():
    console = _console_of(
        "c.get('/no-such-page', HTTP_HOST='127.0.0.1')",
        LOG_FORMAT="json",
    )
    lines = [json.loads(line) for line in console.splitlines()]
    assert len(lines) == 1
    record = lines[0]
    assert record["event"] == "Not Found: /no-such-page"
    assert record["level"] == "warning" and record["logger"] == "django.request"
    assert len(record["request_id"]) == 32 and record["timestamp"].endswith("Z")
