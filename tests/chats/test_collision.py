"""The collision guard over the real Redis channel layer: people who have the same
conversation open see each other ("Budi is viewing" / "Budi is typing…") live; nobody who may
not see the conversation hears of it; a reply stored while someone else typed is marked, not
refused."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from agents.services import agent_create
from chats.models import Conversation, Message
from chats.services.conversations import conversation_take
from chats.services.outbound import message_reply_create
from tests.chats.test_live_inbound import QUIET, open_socket
from tests.factories import ContactFactory, ConversationFactory, DeviceFactory, DivisionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(fonnte_device, sales_agents):
    """Sales (Ani, Budi, Dedi) with a chat waiting in its queue (nobody is given chats: the
    division's limit is 0, so the queue stays as it is when sockets connect) and one of Ani's
    own; Citra is in Support."""
    division = fonnte_device.division
    division.max_open_chats = 0
    division.save()
    dedi = agent_create(
        name="Dedi", device=fonnte_device, division=division, token="sapa_test-token-dedi"
    )
    support = DivisionFactory(name="Support", online_only=False)
    citra = agent_create(
        name="Citra",
        device=DeviceFactory(number="6287700000009", division=support),
        division=support,
        token="sapa_test-token-citra",
    )
    queued = ConversationFactory(
        contact=ContactFactory(device=fonnte_device, address="6282100000001", name="Rama")
    )
    anis = ConversationFactory(
        contact=ContactFactory(device=fonnte_device, address="6282100000002", name="Sari"),
        agent=sales_agents[0].agent,
        status=Conversation.Status.OPEN,
    )
    ani, budi = sales_agents
    return {"ani": ani, "budi": budi, "dedi": dedi, "citra": citra, "queued": queued, "anis": anis}


async def report(socket, kind: str, conversation: Conversation) -> None:
    await socket.send_to(
        text_data=json.dumps({"collision": kind, "conversation_id": conversation.pk})
    )


async def line_where(socket, condition) -> str:
    """The first frame that satisfies `condition`. Each frame is the whole "who else is here"
    line, so an earlier report's push may arrive first (the publisher does not wait)."""
    while True:
        frame = await socket.receive_from(timeout=5)
        if condition(frame):
            return frame


async def frames_until_quiet(socket) -> list[str]:
    frames = []
    while not await socket.receive_nothing(timeout=QUIET):
        frames.append(await socket.receive_from(timeout=5))
    return frames


async def test_two_people_on_one_chat_see_each_other_viewing_and_typing(desk):
    queued = desk["queued"]
    ani, budi, dedi, citra = [
        await open_socket(desk[name]) for name in ("ani", "budi", "dedi", "citra")
    ]
    await report(budi, "viewing", queued)
    first = await budi.receive_from(timeout=5)  # who was there before: nobody
    assert f'id="collision-{queued.pk}"' in first and "is viewing" not in first

    await report(ani, "viewing", queued)
    line = await ani.receive_from(timeout=5)
    assert "Budi is viewing" in line and "Ani" not in line
    line = await budi.receive_from(timeout=5)
    assert "Ani is viewing" in line and "Budi" not in line
    await frames_until_quiet(ani)
    await frames_until_quiet(budi)

    await report(budi, "typing", queued)
    line = await line_where(ani, lambda frame: "is-typing" in frame)
    assert 'class="collision-person is-typing"' in line and "Budi is typing…" in line
    assert not any("Budi is" in frame for frame in await frames_until_quiet(budi)), (
        "nobody tells Budi about himself"
    )

    # Dedi may see the queue but does not show this chat; Citra may not see it at all.
    assert await dedi.receive_nothing(timeout=QUIET)
    assert await citra.receive_nothing(timeout=QUIET)

    await report(budi, "left", queued)
    line = await line_where(ani, lambda frame: "Budi" not in frame)
    assert "hidden" in line
    for socket in (ani, budi, dedi, citra):
        await socket.disconnect()


async def test_a_closed_page_stops_showing_at_once(desk):
    queued = desk["queued"]
    ani, budi = [await open_socket(desk[name]) for name in ("ani", "budi")]
    await report(ani, "viewing", queued)
    await ani.receive_from(timeout=5)
    await report(budi, "viewing", queued)
    assert "Ani is viewing" in await budi.receive_from(timeout=5)
    await line_where(ani, lambda frame: "Budi is viewing" in frame)
    await budi.disconnect()
    await line_where(ani, lambda frame: "Budi" not in frame)
    await ani.disconnect()


async def test_who_may_not_see_the_chat_can_neither_report_nor_learn(desk):
    queued, anis = desk["queued"], desk["anis"]
    ani, budi, citra = [await open_socket(desk[name]) for name in ("ani", "budi", "citra")]
    await report(ani, "viewing", anis)
    await ani.receive_from(timeout=5)
    # Budi is Ani's colleague, but the chat is hers: his report is ignored, he learns nothing.
    await report(budi, "viewing", anis)
    await report(budi, "typing", anis)
    assert await budi.receive_nothing(timeout=QUIET)
    assert await ani.receive_nothing(timeout=QUIET)
    # Citra (another division) cannot join the queued chat either.
    await report(ani, "viewing", queued)
    await ani.receive_from(timeout=5)
    await report(citra, "viewing", queued)
    assert await citra.receive_nothing(timeout=QUIET)
    assert await ani.receive_nothing(timeout=QUIET)
    # Junk is ignored without closing the socket.
    for junk in (
        "{",
        '{"collision": "dancing", "conversation_id": 1}',
        '{"collision": "typing"}',
        '{"collision": "typing", "conversation_id": "1"}',
        "[1, 2]",
    ):
        await budi.send_to(text_data=junk)
    await report(budi, "viewing", queued)
    assert "Ani is viewing" in await budi.receive_from(timeout=5)
    for socket in (ani, budi, citra):
        await socket.disconnect()


async def test_a_reply_sent_while_someone_else_typed_is_marked_not_refused(desk):
    queued = desk["queued"]
    ani_agent = desk["ani"].agent
    budi = await open_socket(desk["budi"])
    await report(budi, "viewing", queued)
    await budi.receive_from(timeout=5)
    await report(budi, "typing", queued)
    await budi.receive_nothing(timeout=QUIET)  # let the report land

    def take_and_reply():
        conversation = conversation_take(conversation=queued, agent=ani_agent)
        return message_reply_create(conversation=conversation, agent=ani_agent, text="Halo Rama")

    message = await sync_to_async(take_and_reply)()
    assert message.pk and message.status == Message.Status.QUEUED  # stored and sent
    assert message.collided_with == "Budi"

    def bubble() -> str:
        client = Client()
        client.post(
            reverse("agents:login"),
            {"device_number": ani_agent.device.number, "token": desk["ani"].token},
        )
        return client.get(reverse("chats:conversation", args=[queued.pk])).content.decode()

    html = await sync_to_async(bubble)()
    assert "Sent while Budi was typing in this chat" in html
    await budi.disconnect()


def test_a_reply_nobody_else_typed_over_is_not_marked(desk):
    message = message_reply_create(conversation=desk["anis"], agent=desk["ani"].agent, text="Ok")
    assert message.collided_with == ""
