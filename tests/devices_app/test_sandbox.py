from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client

from chats.models import Conversation, Message
from config.celery import app as celery_app
from devices_app.models import Device, SandboxMessage
from devices_app.tasks import sandbox_status_callback
from tests.factories import DeviceFactory, DivisionFactory

pytestmark = pytest.mark.django_db

TOKEN = "sandbox-token-0001"


@pytest.fixture(autouse=True)
def _sandbox_on(settings):
    # Off unless DEBUG or SANDBOX_ENABLED; the suite runs with DEBUG off.
    settings.SANDBOX_ENABLED = True


@pytest.fixture
def sandbox_device(db):
    division = DivisionFactory(name="Sandbox Sales", online_only=False)
    return DeviceFactory(
        number="6281100000001",
        gateway=Device.Gateway.SANDBOX,
        gateway_token=TOKEN,
        division=division,
        status=Device.Status.CONNECTED,
    )


@pytest.fixture
def sandbox_agent(sandbox_device):
    from agents.services import agent_create

    return agent_create(
        name="Ani", device=sandbox_device, division=sandbox_device.division, token="sbx-ani"
    )


def send(client, token=TOKEN, path="/sandbox/fonnte/send", **fields):
    return client.post(path, fields, headers={"Authorization": token})


def test_send_answers_like_fonnte(client, sandbox_device):
    response = send(client, target="081234567890", message="Halo kak")
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"detail", "id", "process", "requestid", "status", "target"}
    assert body["status"] is True and body["detail"] == "success! message in queue"
    assert body["process"] == "pending" and isinstance(body["requestid"], int)
    assert body["target"] == ["6281234567890"]
    sent = SandboxMessage.objects.get()
    assert body["id"] == [sent.gateway_id] and isinstance(body["id"][0], str)
    assert (sent.customer, sent.text, sent.direction) == ("6281234567890", "Halo kak", "out")


def test_send_takes_json_several_targets_and_a_poll(client, sandbox_device):
    response = client.post(
        "/sandbox/fonnte/send/",
        {
            "target": "6281234567890,6281234567891|Budi",
            "pollname": "Q?",
            "choices": "A,B,C",
            "select": "single",
            "countryCode": "62",
        },
        content_type="application/json",
        headers={"Authorization": TOKEN},
    )
    assert response.json()["target"] == ["6281234567890", "6281234567891"]
    assert len(response.json()["id"]) == 2
    assert SandboxMessage.objects.first().poll_choices == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("token", "fields", "reason"),
    [
        ("wrong", {"target": "081234567890", "message": "x"}, "token invalid"),
        (TOKEN, {"target": "not-a-number", "message": "x"}, "target invalid"),
        (TOKEN, {"target": "", "message": "x"}, "target invalid"),
        (TOKEN, {"target": "081234567890"}, "input invalid"),
    ],
)
def test_send_failures_answer_like_fonnte(client, sandbox_device, token, fields, reason):
    body = send(client, token=token, **fields).json()
    assert body["Status"] is False and body["reason"] == reason
    assert isinstance(body["requestid"], int)
    assert SandboxMessage.objects.count() == 0


def test_device_and_qr(client, sandbox_device):
    device = send(client, path="/sandbox/fonnte/device").json()
    assert device["status"] is True and device["device"] == "6281100000001"
    assert device["device_status"] == "connect"
    assert send(client, path="/sandbox/fonnte/qr").json() == {
        "reason": "device already connect",
        "status": False,
    }
    Device.objects.filter(pk=sandbox_device.pk).update(status=Device.Status.DISCONNECTED)
    qr = send(client, path="/sandbox/fonnte/qr").json()
    assert qr["status"] is True and qr["url"]
    assert send(client, token="nope", path="/sandbox/fonnte/device").json() == {
        "reason": "token invalid",
        "status": False,
    }


def test_sandbox_is_404_when_disabled(client, sandbox_device, settings):
    settings.SANDBOX_ENABLED = False
    assert client.get("/sandbox/").status_code == 404
    assert send(client, target="081234567890", message="x").status_code == 404


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
@pytest.mark.parametrize(
    "path", ["/sandbox/", "/sandbox/chat", "/sandbox/chat/write", "/sandbox/fonnte/send"]
)
def test_disabled_sandbox_urls_are_404_for_every_method(sandbox_device, settings, path, method):
    # Not 405 for the wrong method nor 403 for a missing CSRF token: the URL does not exist.
    settings.SANDBOX_ENABLED = False
    strict = Client(enforce_csrf_checks=True)
    assert getattr(strict, method)(path).status_code == 404
    connection = f"/sandbox/device/{sandbox_device.pk}/connection"
    assert getattr(strict, method)(connection).status_code == 404


def test_sandbox_page_posts_need_the_csrf_token(sandbox_device):
    strict = Client(enforce_csrf_checks=True)
    url = f"/sandbox/device/{sandbox_device.pk}/connection"
    assert strict.post(url, {"action": "disconnect"}).status_code == 403
    sandbox_device.refresh_from_db()
    assert sandbox_device.status == Device.Status.CONNECTED


def test_customer_page_writes_reach_the_inbox(client, sandbox_device, sandbox_agent):
    start = client.get(
        "/sandbox/", {"device": sandbox_device.pk, "number": "0812 3456 7890", "name": "Rama"}
    )
    assert start.status_code == 302 and "number=6281234567890" in start["Location"]
    client.post(
        "/sandbox/chat/write",
        {"device": sandbox_device.pk, "number": "6281234567890", "name": "Rama", "text": "Halo"},
    )
    message = Message.objects.select_related("conversation__contact").get()
    assert message.text == "Halo" and message.conversation.contact.name == "Rama"
    assert message.conversation.agent == sandbox_agent.agent
    assert message.gateway_inbox_id == SandboxMessage.objects.get().pk
    page = client.get(start["Location"]).content.decode()
    assert "Halo" in page


def test_customer_votes_on_a_poll_the_agent_sent(client, sandbox_device, sandbox_agent):
    client.post(
        "/sandbox/chat/write",
        {"device": sandbox_device.pk, "number": "6281234567890", "name": "Rama", "text": "Hi"},
    )
    conversation = Conversation.objects.get()
    poll = Message.objects.create(
        conversation=conversation,
        device=sandbox_device,
        direction="out",
        status="sent",
        poll_name="Rate us",
        poll_choices=["Good", "Bad"],
    )
    send(client, target="6281234567890", pollname="Rate us", choices="Good,Bad")
    delivered = SandboxMessage.objects.get(direction="out")
    client.post(
        "/sandbox/chat/write",
        {
            "device": sandbox_device.pk,
            "number": "6281234567890",
            "name": "Rama",
            "vote_for": delivered.pk,
            "choice": "Good",
        },
    )
    vote = Message.objects.get(poll_vote_for=poll)
    assert vote.poll_choices == ["Good"]


def test_customer_page_previews_images_sapa_serves_and_links_other_files(
    client, sandbox_device, settings
):
    settings.PUBLIC_BASE_URL = "http://testserver"
    signed = "http://testserver/media/s/abc/photo.png"
    send(client, target="6281234567890", url=signed, filename="photo.png", message="Foto")
    send(client, target="6281234567890", url="https://cdn.example/x.png", filename="x.png")
    send(client, target="6281234567890", url="http://testserver/media/s/d/l.pdf", filename="l.pdf")
    page = client.get(
        "/sandbox/chat", {"device": sandbox_device.pk, "number": "6281234567890"}
    ).content.decode()
    assert f'<img src="{signed}" alt="photo.png"' in page
    # Elsewhere-hosted images and documents stay links (the page loads images from Sapa only).
    assert 'href="https://cdn.example/x.png"' in page and '<img src="https://cdn' not in page
    assert ">l.pdf</a>" in page


@pytest.mark.django_db(transaction=True)
def test_send_is_followed_by_status_webhooks_sent_delivered_read(live_server, settings):
    """The real chain: /send → Celery worker (countdowns) → Sapa's own status webhook."""
    settings.PUBLIC_BASE_URL = live_server.url
    division = DivisionFactory(online_only=False)
    device = DeviceFactory(
        number="6281100000001",
        gateway=Device.Gateway.SANDBOX,
        gateway_token=TOKEN,
        division=division,
        status=Device.Status.CONNECTED,
    )
    client = Client()
    client.post(
        "/sandbox/chat/write",
        {"device": device.pk, "number": "6281234567890", "name": "Rama", "text": "Halo"},
    )
    answer = send(client, target="6281234567890", message="Siap kak").json()
    outbound = Message.objects.create(
        conversation=Conversation.objects.get(),
        device=device,
        direction="out",
        status=Message.Status.SENT,
        text="Siap kak",
        gateway_message_id=answer["id"][0],
    )
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # Bounded wait (the chain needs ~3 s; a busy CI machine may need far more).
        for _ in range(600):  # 600 × 0.1 s
            outbound.refresh_from_db()
            if outbound.status == Message.Status.READ:
                break
            import time

            time.sleep(0.1)
    assert outbound.status == Message.Status.READ
    assert outbound.gateway_state_id == SandboxMessage.objects.get(direction="out").state_id
    assert SandboxMessage.objects.get(direction="out").state == "read"


def test_status_callback_run_twice_posts_nothing_new(sandbox_device):
    message = SandboxMessage.objects.create(
        device=sandbox_device, customer="6281234567890", direction="out", state="delivered"
    )
    # Already past step 1 and 2: a repeated delivery of those tasks does nothing (no HTTP).
    sandbox_status_callback.run(message.pk, 1)
    sandbox_status_callback.run(message.pk, 2)
    message.refresh_from_db()
    assert message.state == "delivered"


def test_sandbox_page_simulates_a_disconnect_and_reconnect(client, sandbox_device):
    url = f"/sandbox/device/{sandbox_device.pk}/connection"
    response = client.post(url, {"action": "disconnect", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/sandbox/"
    sandbox_device.refresh_from_db()
    assert sandbox_device.status == Device.Status.DISCONNECTED
    client.post(url, {"action": "connect"})
    sandbox_device.refresh_from_db()
    assert sandbox_device.status == Device.Status.CONNECTED
