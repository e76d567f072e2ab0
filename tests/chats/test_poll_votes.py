"""A customer's vote on a poll Sapa sent: the vote is pushed as a message, and the poll's bubble
is told to re-render with its new tally (`message.updated`), over the real channel layer."""

from __future__ import annotations

import pytest
from django.test import Client

from chats.models import Message
from chats.services.outbound import message_poll_create
from realtime import publisher as realtime
from templates_app.selectors import poll_tally
from templates_app.services import poll_spec_build
from tests.fonnte import fixture, post

from .tools_support import agent_in, events_during, open_chat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ani(fonnte_device):
    return agent_in(fonnte_device.division, device=fonnte_device, name="Ani")


def _poll(chat, agent):
    poll = message_poll_create(
        conversation=chat,
        agent=agent,
        poll=poll_spec_build(
            question="How was our service today?",
            choices=["Excellent", "Good", "Could be better"],
            multiple=False,
        ),
    )
    # As if the gateway took it (the send path has its own tests).
    Message.objects.filter(pk=poll.pk).update(status=Message.Status.SENT)
    return poll


def test_a_vote_pushes_the_polls_update_to_whoever_sees_the_chat(fonnte_device, ani):
    chat = open_chat(ani, address="6282100000002", name="Rama")
    poll = _poll(chat, ani)

    response, events = events_during(
        lambda: post(Client(), fonnte_device, "incoming", fixture("incoming_poll_vote")),
        expect={realtime.agent_group(ani.pk): 2},
    )

    assert response.status_code == 200
    vote = Message.objects.get(poll_vote_for=poll)
    assert events[realtime.agent_group(ani.pk)] == [
        {
            "type": "message.created",
            "conversation_id": chat.pk,
            "message_id": vote.pk,
            "new_chat": False,
        },
        {"type": "message.updated", "conversation_id": chat.pk, "message_id": poll.pk},
    ]
    [excellent, good, _later] = poll_tally(poll_message=poll)
    assert (excellent.choice, excellent.count, good.count) == ("Excellent", 1, 0)


def test_a_poll_from_the_customer_is_not_a_vote_and_updates_nothing(fonnte_device, ani):
    open_chat(ani, address="6282100000002", name="Rama")
    _response, events = events_during(
        lambda: post(Client(), fonnte_device, "incoming", fixture("incoming_poll")),
        expect={realtime.agent_group(ani.pk): 1},
    )
    assert [event["type"] for event in events[realtime.agent_group(ani.pk)]] == ["message.created"]


def test_a_vote_on_a_queued_chat_goes_to_the_division_queue(fonnte_device, ani):
    chat = open_chat(ani, address="6282100000002", name="Rama")
    poll = _poll(chat, ani)
    # The chat went back to the queue after the poll was sent.
    type(chat).objects.filter(pk=chat.pk).update(agent=None, status="queued")

    _response, events = events_during(
        lambda: post(Client(), fonnte_device, "incoming", fixture("incoming_poll_vote")),
        expect={realtime.division_queue_group(chat.division_id): 2},
    )
    assert events[realtime.division_queue_group(chat.division_id)][-1] == {
        "type": "message.updated",
        "conversation_id": chat.pk,
        "message_id": poll.pk,
    }
