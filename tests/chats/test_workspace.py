from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from chats.models import Conversation
from tests.factories import ContactFactory, ConversationFactory, DeviceFactory, DivisionFactory

pytestmark = pytest.mark.django_db


def logged_in(agent_with_token, number="6287700000001") -> Client:
    client = Client()
    response = client.post(
        reverse("agents:login"), {"device_number": number, "token": agent_with_token.token}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def chats(fonnte_device, sales_agents):
    ani, budi = (a.agent for a in sales_agents)

    def conversation(address, name, **kwargs):
        contact = ContactFactory(device=fonnte_device, address=address, name=name)
        return ConversationFactory(contact=contact, **kwargs)

    open_ = Conversation.Status.OPEN
    other_division = DivisionFactory(name="Elsewhere")
    elsewhere_device = DeviceFactory(division=other_division)
    return {
        "mine": conversation(
            "6282100000001",
            "Mine Customer",
            agent=ani,
            status=open_,
            unread_count=3,
            last_message_preview="hello from mine",
        ),
        "queued": conversation("6282100000002", "Queued Customer"),
        "colleague": conversation(
            "6282100000003",
            "Colleague Customer",
            agent=budi,
            status=open_,
            last_message_preview="not for ani",
        ),
        "other_queue": ConversationFactory(
            contact=ContactFactory(device=elsewhere_device, name="Other Queue Customer")
        ),
    }


def test_inbox_lists_own_chats_and_the_division_queue_only(chats, sales_agents):
    client = logged_in(sales_agents[0])
    html = client.get(reverse("chats:inbox")).content.decode()
    assert f'id="conversation-{chats["mine"].pk}"' in html
    assert f'id="conversation-{chats["queued"].pk}"' not in html  # the Queue tab has it
    assert "Colleague Customer" not in html and "not for ani" not in html
    assert "Other Queue Customer" not in html
    assert ">3</span>" in html  # unread badge
    queue = client.get(reverse("chats:inbox"), {"tab": "queue"}).content.decode()
    assert f'id="conversation-{chats["queued"].pk}"' in queue
    assert f'id="conversation-{chats["mine"].pk}"' not in queue
    assert "Colleague Customer" not in queue and "Other Queue Customer" not in queue


def test_conversation_page_shows_the_thread(chats, sales_agents):
    client = logged_in(sales_agents[0])
    response = client.get(reverse("chats:conversation", args=[chats["mine"].pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="thread-{chats["mine"].pk}-messages"' in html
    assert 'id="conversation-list"' in html


def test_conversation_partial_for_htmx(chats, sales_agents):
    client = logged_in(sales_agents[0])
    response = client.get(
        reverse("chats:conversation", args=[chats["queued"].pk]), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith("{% load") is False
    assert 'id="thread-pane"' in html and "<html" not in html


@pytest.mark.parametrize("which", ["colleague", "other_queue"])
def test_conversations_the_agent_may_not_see_are_404(chats, sales_agents, which):
    client = logged_in(sales_agents[0])
    assert client.get(reverse("chats:conversation", args=[chats[which].pk])).status_code == 404
    response = client.post(reverse("chats:conversation_read", args=[chats[which].pk]))
    assert response.status_code == 404


def test_reading_clears_unread_only_for_the_assigned_agent(chats, sales_agents):
    client = logged_in(sales_agents[0])
    assert (
        client.post(reverse("chats:conversation_read", args=[chats["mine"].pk])).status_code == 204
    )
    chats["mine"].refresh_from_db()
    assert chats["mine"].unread_count == 0
    Conversation.objects.filter(pk=chats["queued"].pk).update(unread_count=2)
    client.post(reverse("chats:conversation_read", args=[chats["queued"].pk]))
    chats["queued"].refresh_from_db()
    assert chats["queued"].unread_count == 2


def test_list_partial_for_resync(chats, sales_agents):
    client = logged_in(sales_agents[0])
    html = client.get(reverse("chats:conversation_list")).content.decode()
    assert html.lstrip().startswith('<ul id="conversation-list"')
    assert f'id="conversation-{chats["mine"].pk}"' in html


def test_customer_text_is_escaped(fonnte_device, sales_agents):
    ani = sales_agents[0].agent
    contact = ContactFactory(device=fonnte_device, name="<script>alert(1)</script>")
    ConversationFactory(
        contact=contact,
        agent=ani,
        status=Conversation.Status.OPEN,
        last_message_preview="<img src=x onerror=alert(1)>",
    )
    html = logged_in(sales_agents[0]).get(reverse("chats:inbox")).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_device_banner_when_disconnected(fonnte_device, sales_agents):
    fonnte_device.status = "disconnected"
    fonnte_device.status_reason = "phone offline"
    fonnte_device.save()
    html = logged_in(sales_agents[0]).get(reverse("chats:inbox")).content.decode()
    assert f'id="device-{fonnte_device.pk}-banner"' in html and "phone offline" in html


def test_stored_attachment_is_served_only_to_who_sees_the_chat(
    chats, sales_agents, fonnte_device, settings, tmp_path
):
    from django.core.files.base import ContentFile

    from chats.models import Message

    settings.MEDIA_ROOT = tmp_path
    message = Message(
        conversation=chats["mine"],
        device=fonnte_device,
        direction="in",
        attachment_url="https://files.fonnte.com/x/report.pdf",
        attachment_name="report.pdf",
        attachment_state="stored",
    )
    message.attachment_file.save("report.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    message.save()
    ani = logged_in(sales_agents[0])
    assert ani.get(reverse("chats:attachment", args=[message.pk])).status_code == 200
    thread = ani.get(reverse("chats:conversation", args=[chats["mine"].pk])).content.decode()
    assert reverse("chats:attachment", args=[message.pk]) in thread
    budi = logged_in(sales_agents[1])
    assert budi.get(reverse("chats:attachment", args=[message.pk])).status_code == 404
