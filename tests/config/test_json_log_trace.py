"""An operator follows one customer message through the JSON logs by one id.

The real processes, with LOG_FORMAT=json: Uvicorn takes the customer's webhook and the agent's
reply, a Celery worker process sends the reply to a Fonnte-speaking server, and the gateway's
status webhook comes back. Every line of both logs must be JSON, and selecting the lines of the
conversation must give the whole story in order — received, assigned, reply queued, sent,
delivered — with the reply's request id carried from the web process into the send task."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from pytest_httpserver import HTTPServer

from chats.models import Conversation, Message
from tests.fonnte import FIXTURE_DEVICE_NUMBER, fixture, hook_url
from tests.gateway_server import FonnteGateway, free_port
from tests.servers import uvicorn_server
from tests.workers import database_url_of_tests, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def json_lines(path: Path) -> list[dict]:
    text = path.read_text(errors="replace")
    records = []
    for line in text.splitlines():
        if line.strip():
            records.append(json.loads(line))  # a line that is not JSON fails here
    return records


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    """The Procfile's worker: quiet (no banner), so its output is nothing but log records."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "--quiet", "worker", "--pool", "threads"]
        + ["--concurrency", "2", "--without-heartbeat", "--without-mingle", "--without-gossip"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_one_customer_message_is_followed_from_webhook_to_delivery_tick(
    fonnte_device, sales_agents
):
    server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    gateway = FonnteGateway(server=server)
    gateway.install()
    server.start()
    env = {
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url_of_tests(),
        "REDIS_URL": settings.REDIS_URL,
        "FONNTE_API_URL": gateway.url,
        "AXES_ENABLED": "false",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }
    worker_log = Path(tempfile.mkdtemp(prefix="sapa-json-")) / "worker.log"
    worker = start_worker(env, worker_log)
    try:
        wait_until(lambda: " ready." in worker_log.read_text(), what="the worker to be ready")
        with uvicorn_server(env) as (base, web_log), httpx.Client(base_url=base) as http:
            # The customer writes.
            received = http.post(
                hook_url(fonnte_device, "incoming"),
                content=json.dumps(fixture("incoming_private_captured")),
            )
            assert received.status_code == 200
            conversation = Conversation.objects.get(messages__pk=received.json()["id"])
            agent = next(a for a in sales_agents if a.agent.pk == conversation.agent_id)

            # The assigned agent signs in and replies.
            http.get("/login")
            http.post(
                "/login",
                data={
                    "device_number": FIXTURE_DEVICE_NUMBER,
                    "token": agent.token,
                    "csrfmiddlewaretoken": http.cookies["csrftoken"],
                },
            )
            http.get(f"/inbox/c/{conversation.pk}")
            reply = http.post(
                f"/inbox/c/{conversation.pk}/send",
                data={"text": "Halo, ada."},
                headers={"X-CSRFToken": http.cookies["csrftoken"], "HX-Request": "true"},
            )
            assert reply.status_code == 200, reply.text
            reply_request_id = reply.headers["X-Request-ID"]
            sent = wait_until(
                lambda: Message.objects.filter(
                    conversation=conversation, direction="out", status="sent"
                ).first(),
                what="the reply to be sent",
            )

            # The gateway reports it delivered.
            status = http.post(
                hook_url(fonnte_device, "status"),
                content=json.dumps(
                    {
                        "device": FIXTURE_DEVICE_NUMBER,
                        "id": sent.gateway_message_id,
                        "status": "delivered",
                    }
                ),
            )
            assert status.status_code == 200
            web = json_lines(web_log)
        task = json_lines(worker_log)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        server.stop()

    # One selection by the conversation's id: the whole story, in order.
    story = [
        (r["event"], r.get("message_id"))
        for r in sorted(web + task, key=lambda r: r["timestamp"])
        if r.get("conversation_id") == conversation.pk and r["logger"].startswith("chats")
    ]
    inbound_id = received.json()["id"]
    assignee = f"{agent.agent.name} (agent {agent.agent.pk})"
    assert story == [
        (f"message {inbound_id} received in conversation {conversation.pk} (new chat)", inbound_id),
        (f"conversation {conversation.pk} assigned to {assignee}", inbound_id),
        (f"message {sent.pk} queued by agent {agent.agent.pk}", sent.pk),
        (f"message {sent.pk} sent (attempt 1)", sent.pk),
        (f"message {sent.pk} delivered", sent.pk),
    ]
    # The web and worker lines of the reply carry the device and the reply's request id.
    send_line = next(r for r in task if r["event"].startswith(f"message {sent.pk} sent"))
    assert send_line["device_id"] == fonnte_device.pk
    assert send_line["request_id"] == reply_request_id
    assert re.fullmatch(r"[0-9a-f-]{36}", send_line["task_id"])
    assert send_line["level"] == "info" and send_line["logger"] == "chats.tasks.sending"
