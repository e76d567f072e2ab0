"""The workspace offers only what the device's gateway can carry out (docs/ARCHITECTURE.md
"Capabilities"), and the services refuse the rest: no button, and no stored reply, that could
only fail."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import override

from chats.models import Conversation, Message
from chats.services.outbound import message_location_create, message_poll_create
from devices_app.gateways import registry
from devices_app.gateways.base import Capabilities
from devices_app.gateways.fonnte import FonnteGateway
from devices_app.models import Device
from templates_app.services import PollSpec
from tests.chats.test_workspace import logged_in
from tests.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db


class TextAndFilesOnly(FonnteGateway):
    """A gateway that sends text and files but no polls, locations or quotes."""

    capabilities = dataclasses.replace(
        FonnteGateway.capabilities, polls=False, locations=False, quotes=False
    )


@pytest.fixture
def mine(fonnte_device, sales_agents):
    ani = sales_agents[0].agent
    contact = ContactFactory(device=fonnte_device, address="6282100000001", name="Customer")
    conversation = ConversationFactory(contact=contact, agent=ani, status=Conversation.Status.OPEN)
    Message.objects.create(
        conversation=conversation,
        device=fonnte_device,
        direction=Message.Direction.IN,
        status=Message.Status.RECEIVED,
        text="Halo",
    )
    return conversation


def _page(sales_agents, conversation) -> str:
    client = logged_in(sales_agents[0])
    with override("en"):
        response = client.get(reverse("chats:conversation", args=[conversation.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_fonnte_device_offers_every_tool(mine, sales_agents):
    html = _page(sales_agents, mine)
    for tool in ("attach", "poll", "location"):
        assert f'data-tool="{tool}"' in html
    assert "data-no-quotes" not in html
    assert 'data-mode="reply"' in html


def test_tools_the_gateway_lacks_are_not_offered(mine, sales_agents, monkeypatch):
    monkeypatch.setitem(registry.ADAPTERS, "fonnte", TextAndFilesOnly())
    html = _page(sales_agents, mine)
    assert 'data-tool="attach"' in html
    assert 'data-tool="poll"' not in html
    assert 'data-tool="location"' not in html
    assert f'id="composer-{mine.pk}-poll"' not in html
    assert "data-no-quotes" in html  # the stylesheet hides every "Reply to" button


def test_the_services_refuse_what_the_gateway_lacks(mine, monkeypatch):
    monkeypatch.setitem(registry.ADAPTERS, "fonnte", TextAndFilesOnly())
    agent = mine.agent
    with override("en"):
        with pytest.raises(ValidationError, match="cannot send polls"):
            message_poll_create(
                conversation=mine,
                agent=agent,
                poll=PollSpec(question="Which?", choices=("A", "B"), multiple=False),
            )
        with pytest.raises(ValidationError, match="cannot send locations"):
            message_location_create(conversation=mine, agent=agent, latitude=1, longitude=2)
    assert not Message.objects.filter(direction=Message.Direction.OUT).exists()


class CannotSend(FonnteGateway):
    """A gateway Sapa cannot send through (every registered one sends today)."""

    capabilities = Capabilities(can_send=False, cannot_send_reason="Sapa cannot send through it.")


def test_a_device_whose_gateway_cannot_send_shows_why_instead_of_a_reply_box(
    mine, sales_agents, monkeypatch
):
    monkeypatch.setitem(registry.ADAPTERS, "fonnte", CannotSend())
    html = _page(sales_agents, mine)
    assert "Sapa cannot send through" in html
    assert 'data-mode="reply"' not in html
    assert 'data-tool="attach"' not in html
    assert 'data-mode="note"' in html  # notes to colleagues stay possible


@pytest.mark.parametrize(
    ("gateway", "offered", "not_offered"),
    [
        # ApiWago: files and polls; no location pins and no quotes in its API.
        (Device.Gateway.APIWAGO, ("attach", "poll"), ("location",)),
        # wonotify: files by link only.
        (Device.Gateway.WONOTIFY, ("attach",), ("poll", "location")),
    ],
)
def test_apiwago_and_wonotify_devices_offer_exactly_their_tools(
    mine, sales_agents, gateway, offered, not_offered
):
    Device.objects.filter(pk=mine.device_id).update(gateway=gateway)
    html = _page(sales_agents, mine)
    assert 'data-mode="reply"' in html
    for tool in offered:
        assert f'data-tool="{tool}"' in html
    for tool in not_offered:
        assert f'data-tool="{tool}"' not in html
    assert "data-no-quotes" in html
