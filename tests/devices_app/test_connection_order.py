"""Connection events are ordered by the gateway's clock alone, never against Sapa's: a connect
stamped a few seconds "behind" Sapa's clock after a disconnect that had no stamp still
reconnects the device, and the replies that waited for it leave."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from chats.models import Message
from chats.services.outbound import message_reply_create
from devices_app.models import Device
from tests.fonnte import post
from tests.workers import assigned_conversation, broker_tasks

pytestmark = pytest.mark.django_db

NUMBER = "6287700000009"


def _stamp(seconds_ago: float) -> int:
    return int((timezone.now() - timedelta(seconds=seconds_ago)).timestamp())


def _connect(client, device, status: str, **fields) -> None:
    body = {"device": NUMBER, "status": status, **fields}
    assert post(client, device, "connect", body).status_code == 200


def test_a_connect_behind_our_clock_after_an_unstamped_disconnect_reconnects(
    client, django_capture_on_commit_callbacks
):
    conversation = assigned_conversation(number=NUMBER)
    device = conversation.device
    _connect(client, device, "connect", timestamp=_stamp(60))
    _connect(client, device, "disconnect", reason="phone offline")  # no timestamp
    with django_capture_on_commit_callbacks(execute=True):
        reply = message_reply_create(conversation=conversation, agent=conversation.agent, text="Hi")
    assert reply.status == Message.Status.QUEUED

    # The gateway's clock runs 5 s behind ours: its connect looks "older" than Sapa's stamp of
    # the disconnect, but it is newer than every event the gateway stamped before.
    with django_capture_on_commit_callbacks(execute=True):
        _connect(client, device, "connect", timestamp=_stamp(5))
    device.refresh_from_db()
    assert device.status == Device.Status.CONNECTED
    # The waiting reply was released to the send task.
    assert [task.args for task in broker_tasks() if task.name == "chats.send_message"][-1][
        0
    ] == reply.pk


def test_a_late_retry_of_an_older_stamped_event_is_still_ignored(client):
    device = assigned_conversation(number=NUMBER).device
    _connect(client, device, "disconnect", timestamp=_stamp(10))
    _connect(client, device, "connect", timestamp=_stamp(5))
    _connect(client, device, "disconnect", timestamp=_stamp(10))  # the first one, retried late
    device.refresh_from_db()
    assert device.status == Device.Status.CONNECTED


def test_an_unstamped_event_is_taken_as_the_latest(client):
    device = assigned_conversation(number=NUMBER).device
    _connect(client, device, "connect", timestamp=_stamp(5))
    _connect(client, device, "disconnect")
    device.refresh_from_db()
    assert device.status == Device.Status.DISCONNECTED
    assert json.dumps(device.status_reason) == '""'
