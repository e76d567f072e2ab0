"""Quick replies: which templates an agent sees, and how they are filled in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.test import Client

from chats.media import SIGNED_MEDIA_SALT
from templates_app.models import QuickReply
from templates_app.selectors import quick_reply_list_for_agent
from templates_app.services import quick_reply_render, quick_reply_text_render
from tests.factories import (
    AgentFactory,
    ContactFactory,
    ConversationFactory,
    DeviceFactory,
    DivisionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return AgentFactory(name="Ani")


def template(shortcut: str, *, title: str = "", text: str = "Hi", **fields) -> QuickReply:
    return QuickReply.objects.create(
        shortcut=shortcut, title=title or shortcut.title(), text=text, **fields
    )


def shortcuts(queryset) -> list[str]:
    return [(qr.shortcut, qr.division_id) for qr in queryset]


# --- quick_reply_list_for_agent ---------------------------------------------------------------


def test_agent_sees_global_and_own_division_templates_only(agent):
    template("hello")
    template("price", division=agent.division)
    template("other", division=DivisionFactory())
    template("old", is_active=False)

    assert shortcuts(quick_reply_list_for_agent(agent=agent)) == [
        ("hello", None),
        ("price", agent.division_id),
    ]


def test_division_template_hides_the_global_one_with_the_same_shortcut(agent):
    template("hours", text="global")
    mine = template("hours", text="ours", division=agent.division)
    template("hours", text="theirs", division=DivisionFactory())

    assert list(quick_reply_list_for_agent(agent=agent)) == [mine]
    assert list(quick_reply_list_for_agent(agent=agent, query="hours")) == [mine]


def test_inactive_division_template_does_not_hide_the_global_one(agent):
    global_one = template("hours")
    template("hours", division=agent.division, is_active=False)

    assert list(quick_reply_list_for_agent(agent=agent)) == [global_one]


def test_query_matches_shortcut_before_title(agent):
    template("thanks", title="Closing")
    template("bye", title="Thanks and goodbye")
    template("pthanks", title="Polite")
    template("thx", title="Short thanks")
    template("menu", title="Menu")

    found = [qr.shortcut for qr in quick_reply_list_for_agent(agent=agent, query="/THANKS")]

    assert found == ["thanks", "pthanks", "bye", "thx"]


def test_query_prefix_before_contains(agent):
    template("order-status")
    template("my-order")
    template("zzz", title="Order help")

    found = [qr.shortcut for qr in quick_reply_list_for_agent(agent=agent, query="ord")]

    assert found == ["order-status", "my-order", "zzz"]


def test_query_wildcards_are_literal(agent):
    template("a_b")
    template("axb")

    assert [qr.shortcut for qr in quick_reply_list_for_agent(agent=agent, query="a_")] == ["a_b"]


def test_blank_query_lists_everything(agent):
    template("b")
    template("a")

    assert [qr.shortcut for qr in quick_reply_list_for_agent(agent=agent, query="  / ")] == [
        "a",
        "b",
    ]


# --- quick_reply_render -----------------------------------------------------------------------


@pytest.fixture
def conversation():
    device = DeviceFactory(name="Toko Maju")
    return ConversationFactory(contact=ContactFactory(device=device, name="Budi"))


def test_variables_are_filled_in(conversation, agent):
    qr = template("hi", text="Halo {name}, saya {agent} dari {device}. {NAME}!")

    rendered = quick_reply_render(quick_reply=qr, conversation=conversation, agent=agent)

    assert rendered.text == "Halo Budi, saya Ani dari Toko Maju. Budi!"
    assert not rendered.has_attachment
    assert not rendered.has_location


def test_contact_without_name_is_called_by_their_number(agent):
    contact = ContactFactory(address="6281234567890", name="")
    conversation = ConversationFactory(contact=contact)
    qr = template("hi", text="Halo {name}")

    rendered = quick_reply_render(quick_reply=qr, conversation=conversation, agent=agent)

    assert rendered.text == f"Halo {contact.display_address}"
    assert "812" in rendered.text


@pytest.mark.parametrize(
    "text",
    ["{var1} {name", "}{", "{}", "{{name}}", "{0} {name!r} {name:>10}", "%(name)s {agent}"],
)
def test_unknown_braces_are_left_as_typed(text):
    values = {"name": "Budi", "agent": "Ani", "device": "Toko"}
    expected = text.replace("{name}", "Budi").replace("{agent}", "Ani").replace("{device}", "Toko")

    assert quick_reply_text_render(text=text, values=values) == expected


def test_values_containing_braces_are_not_expanded_again(agent):
    contact = ContactFactory(name="{agent}")
    conversation = ConversationFactory(contact=contact)
    qr = template("hi", text="Hi {name}")

    assert quick_reply_render(quick_reply=qr, conversation=conversation, agent=agent).text == (
        "Hi {agent}"
    )


def test_link_attachment_and_location(conversation, agent):
    qr = template(
        "map",
        attachment_url="https://cdn.example/files/Price%20list.pdf",
        location_lat=Decimal("-7.983908"),
        location_lng=Decimal("112.621391"),
    )

    rendered = quick_reply_render(quick_reply=qr, conversation=conversation, agent=agent)

    assert rendered.attachment_url == "https://cdn.example/files/Price%20list.pdf"
    assert rendered.attachment_name == "Price list.pdf"
    assert rendered.attachment_stored_name == ""
    assert (rendered.location_lat, rendered.location_lng) == (
        Decimal("-7.983908"),
        Decimal("112.621391"),
    )
    assert rendered.has_location


def test_file_attachment_gets_a_signed_link_the_gateway_can_fetch(
    conversation, agent, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    settings.PUBLIC_BASE_URL = "https://sapa.example"
    qr = template("menu")
    qr.attachment_file.save("menu.pdf", ContentFile(b"%PDF-1.4 menu"), save=True)

    rendered = quick_reply_render(quick_reply=qr, conversation=conversation, agent=agent)

    assert rendered.attachment_stored_name == "quick-replies/menu.pdf"
    assert rendered.attachment_name == "menu.pdf"
    assert rendered.attachment_url.startswith("https://sapa.example/media/signed/")
    signature = rendered.attachment_url.split("/")[-2]
    assert signing.TimestampSigner(salt=SIGNED_MEDIA_SALT).unsign_object(signature) == (
        "quick-replies/menu.pdf"
    )
    response = Client().get(rendered.attachment_url.removeprefix("https://sapa.example"))
    assert b"".join(response.streaming_content) == b"%PDF-1.4 menu"
