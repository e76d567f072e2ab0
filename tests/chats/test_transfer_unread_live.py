"""A chat that reaches a new agent by transfer or hand back is unread to them: the row pushed
to their open socket is marked, with a count, and the notification says how it came (the real
ASGI application, sessions and consumers over the real Redis channel layer)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from chats.models import Conversation
from chats.services.transfer import conversation_hand_back, conversation_transfer

from .test_live_inbound import open_socket
from .test_live_signals import signal_of
from .test_transfer_live import _people

pytestmark = pytest.mark.django_db(transaction=True)


def row_of(frame: str, conversation_id: int) -> str:
    start = frame.index(f'<li id="conversation-{conversation_id}"')
    return frame[start : frame.index(">", start)]


async def test_a_transferred_chat_arrives_unread_even_when_its_agent_had_read_it():
    ani, budi, chat = await sync_to_async(_people)()
    assert chat.unread_count == 0  # Ani had read everything
    budi_socket = await open_socket(budi)

    await sync_to_async(conversation_transfer)(
        conversation=chat, by_agent=ani.agent, to_agent=budi.agent
    )

    frame = await budi_socket.receive_from(timeout=10)
    assert "is-unread" in row_of(frame, chat.pk)
    assert "1 unread message" in frame
    assert (await sync_to_async(Conversation.objects.get)(pk=chat.pk)).unread_count == 1
    await budi_socket.disconnect()


async def test_a_handed_back_chat_arrives_unread_and_says_it_was_handed_back():
    ani, budi, chat = await sync_to_async(_people)()
    budi_socket = await open_socket(budi)

    new_agent = await sync_to_async(conversation_hand_back)(conversation=chat, by_agent=ani.agent)

    assert new_agent.pk == budi.agent.pk  # the only other agent of the division
    frame = await budi_socket.receive_from(timeout=10)
    assert "is-unread" in row_of(frame, chat.pk)
    signal = signal_of(frame)
    assert signal is not None
    assert signal["kind"] == "transfer"
    assert signal["title"] == "Chat handed back to rotation by Ani"
    assert signal["body"] == "Rama: Mau tanya harga"
    await budi_socket.disconnect()


async def test_unread_messages_keep_their_count_when_transferred():
    ani, budi, chat = await sync_to_async(_people)()
    await sync_to_async(Conversation.objects.filter(pk=chat.pk).update)(unread_count=3)
    await sync_to_async(conversation_transfer)(
        conversation=chat, by_agent=ani.agent, to_agent=budi.agent
    )
    assert (await sync_to_async(Conversation.objects.get)(pk=chat.pk)).unread_count == 3
