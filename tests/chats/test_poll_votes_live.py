"""A customer's vote reaches the agent's open page as the poll bubble with its new tally,
through the real consumer: replaced in place by id, never appended."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from chats.models import Message
from chats.services.outbound import message_poll_create
from templates_app.services import poll_spec_build
from tests.fonnte import fixture, post

from .test_live_inbound import open_socket
from .tools_support import open_chat

pytestmark = pytest.mark.django_db(transaction=True)


def sent_poll(agent):
    chat = open_chat(agent, address="6282100000002", name="Rama")
    poll = message_poll_create(
        conversation=chat,
        agent=agent,
        poll=poll_spec_build(
            question="How was our service today?",
            choices=["Excellent", "Good", "Could be better"],
            multiple=False,
        ),
    )
    Message.objects.filter(pk=poll.pk).update(status=Message.Status.SENT)
    return poll


async def test_a_vote_re_renders_the_poll_bubble_with_its_tally(fonnte_device, sales_agents):
    ani = sales_agents[0]
    poll = await sync_to_async(sent_poll)(ani.agent)
    socket = await open_socket(ani)
    response = await sync_to_async(post)(
        Client(), fonnte_device, "incoming", fixture("incoming_poll_vote")
    )
    assert response.status_code == 200
    frames = [await socket.receive_from(timeout=5) for _ in range(2)]
    [updated] = [f for f in frames if f'id="message-{poll.pk}"' in f]
    assert "hx-swap-oob" not in updated.split(f'id="message-{poll.pk}"')[0]  # replace, no append
    assert 'class="poll-count" aria-label="1 vote">1</span>' in updated
    assert "Excellent" in updated
    await socket.disconnect()
