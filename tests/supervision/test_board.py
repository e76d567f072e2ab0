"""The board's figures, computed from known rows (supervision.board)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.presence import new_connection_id, presence_connect, presence_set_away
from chats.models import Conversation, Message
from devices_app.models import Device
from supervision.board import board_read
from supervision.scope import supervisor_scope_for_user
from tests.factories import AgentFactory, ContactFactory

pytestmark = pytest.mark.django_db


def conversation(device, *, agent=None, status=Conversation.Status.OPEN, opened_ago=0):
    convo = Conversation.objects.create(
        contact=ContactFactory(device=device),
        device=device,
        division=device.division,
        agent=agent,
        status=status,
    )
    Conversation.objects.filter(pk=convo.pk).update(
        opened_at=timezone.now() - timedelta(minutes=opened_ago)
    )
    return convo


def message(convo, direction, *, ago, status=Message.Status.RECEIVED):
    msg = Message.objects.create(
        conversation=convo, device=convo.device, direction=direction, status=status
    )
    Message.objects.filter(pk=msg.pk).update(created_at=timezone.now() - timedelta(minutes=ago))
    return msg


def test_board_counts_open_chats_caps_presence_queue_and_unanswered(desk):
    ani = desk.ani.agent
    desk.sales.max_open_chats = 3
    desk.sales.save()
    budi = AgentFactory(name="Budi", device=desk.sales_device, max_open_chats=1)
    presence_connect(agent_id=ani.pk, conn=new_connection_id())
    presence_set_away(agent_id=budi.pk, away=True)

    answered = conversation(desk.sales_device, agent=ani)
    message(answered, "in", ago=30)
    message(answered, "out", ago=20)  # answered: nothing waits here
    waiting = conversation(desk.sales_device, agent=ani)
    message(waiting, "in", ago=50)
    message(waiting, "out", ago=40)
    message(waiting, "in", ago=12)  # the oldest message nobody answered
    message(waiting, "in", ago=5)
    conversation(desk.sales_device, agent=budi)
    conversation(desk.sales_device, agent=ani, status=Conversation.Status.RESOLVED)
    conversation(desk.sales_device, status=Conversation.Status.QUEUED, opened_ago=9)
    conversation(desk.sales_device, status=Conversation.Status.QUEUED, opened_ago=2)
    conversation(desk.support_device, status=Conversation.Status.QUEUED, opened_ago=60)

    board = board_read(scope=supervisor_scope_for_user(user=desk.sales_supervisor))
    rows = {row.name: row for row in board.agents}
    assert set(rows) == {"Ani", "Budi"}
    assert (rows["Ani"].presence, rows["Ani"].open_chats, rows["Ani"].cap) == ("online", 2, 3)
    assert (rows["Budi"].presence, rows["Budi"].open_chats, rows["Budi"].cap) == ("away", 1, 1)
    assert rows["Budi"].at_cap and not rows["Ani"].at_cap
    since = timezone.now() - rows["Ani"].unanswered_since
    assert timedelta(minutes=11) < since < timedelta(minutes=13)
    assert rows["Budi"].unanswered_since is None
    [sales] = board.divisions
    assert (sales.name, sales.queued, sales.online) == ("Sales", 2, 1)
    waited = timezone.now() - sales.oldest_waiting_since
    assert timedelta(minutes=8) < waited < timedelta(minutes=10)


def test_board_devices_rates_and_replies_needing_a_person(desk):
    Device.objects.filter(pk=desk.sales_device.pk).update(
        status=Device.Status.DISCONNECTED, quota="120", expires="2027-01-31"
    )
    convo = conversation(desk.sales_device, agent=desk.ani.agent)
    message(convo, "in", ago=0)
    message(convo, "in", ago=0)
    message(convo, "in", ago=3)  # older than a minute
    message(convo, "out", ago=0, status=Message.Status.SENT)
    message(convo, "out", ago=5, status=Message.Status.FAILED)
    message(convo, "out", ago=6, status=Message.Status.UNCONFIRMED)
    resolved = conversation(desk.sales_device, status=Conversation.Status.RESOLVED)
    message(resolved, "out", ago=7, status=Message.Status.FAILED)  # nobody needs to act now
    message(convo, "out", ago=8 * 24 * 60, status=Message.Status.FAILED)  # a week old: history
    other = conversation(desk.support_device)
    message(other, "out", ago=1, status=Message.Status.FAILED)

    board = board_read(scope=supervisor_scope_for_user(user=desk.sales_supervisor))
    assert (board.messages_in_per_minute, board.messages_out_per_minute) == (2, 1)
    assert board.attention_count == 2
    assert {m.status for m in board.attention} == {"failed", "unconfirmed"}
    [device] = board.devices
    assert (device.name, device.quota, device.expires) == ("Sales phone", "120", "2027-01-31")
    assert [d.name for d in board.disconnected_devices] == ["Sales phone"]

    everything = board_read(scope=supervisor_scope_for_user(user=desk.superuser))
    assert everything.attention_count == 3
    assert {d.name for d in everything.devices} == {"Sales phone", "Support phone"}
