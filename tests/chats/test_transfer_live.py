"""A transfer as the two agents' open sockets see it: the real ASGI application, sessions and
consumers over the real Redis channel layer."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from agents.services import agent_create
from chats.models import Conversation
from chats.services.transfer import conversation_transfer
from tests.factories import ContactFactory, ConversationFactory, DeviceFactory, DivisionFactory

from .test_live_inbound import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


def _people():
    division = DivisionFactory(name="Sales", online_only=False)
    device = DeviceFactory(number="6287700000001", division=division)
    ani, budi = (
        agent_create(
            name=name, device=device, division=division, token=f"sapa_test-token-{name.lower()}"
        )
        for name in ("Ani", "Budi")
    )
    contact = ContactFactory(device=device, name="Rama")
    chat = ConversationFactory(
        contact=contact,
        division=division,
        agent=ani.agent,
        status=Conversation.Status.OPEN,
        last_message_preview="Mau tanya harga",
    )
    return ani, budi, chat


async def test_the_old_agents_page_drops_the_chat_and_the_new_agent_is_told():
    ani, budi, chat = await sync_to_async(_people)()
    old_socket, new_socket = await open_socket(ani), await open_socket(budi)

    await sync_to_async(conversation_transfer)(
        conversation=chat, by_agent=ani.agent, to_agent=budi.agent
    )

    gone = await old_socket.receive_from(timeout=10)
    assert f'hx-swap-oob="delete:#conversation-{chat.pk}"' in gone
    told = await new_socket.receive_from(timeout=10)
    assert f'id="conversation-{chat.pk}"' in told
    assert "Rama" in told
    assert 'data-kind="transfer"' in told
    await old_socket.disconnect()
    await new_socket.disconnect()
