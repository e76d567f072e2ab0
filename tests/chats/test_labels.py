"""Labels: the model's rules, setting them on a conversation, and filtering by them."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError

from chats.models import Conversation, Label
from chats.selectors import (
    conversations_filter_by_label,
    label_list,
    labels_for_conversations,
)
from chats.services.labels import conversation_labels_set
from realtime import publisher as realtime

from .tools_support import agent_in, division, events_during, open_chat

pytestmark = pytest.mark.django_db(transaction=True)


def test_label_names_are_unique_ignoring_case_and_colors_come_from_the_palette():
    Label.objects.create(name="VIP", color=Label.Color.PURPLE)
    with pytest.raises(ValidationError) as error:
        Label(name="vip", color=Label.Color.RED).full_clean()
    assert "A label with this name already exists." in str(error.value)
    with pytest.raises(ValidationError) as error:
        Label(name="Komplain", color="chartreuse").full_clean()
    assert "color" in error.value.message_dict
    assert site.is_registered(Label)


def test_setting_labels_replaces_them_and_pushes_once():
    ani = agent_in(division())
    chat = open_chat(ani)
    vip, complaint, later = (
        Label.objects.create(name=name) for name in ("VIP", "Komplain", "Follow up")
    )
    conversation_labels_set(conversation=chat, agent=ani, labels=[vip, complaint])

    result, events = events_during(
        lambda: conversation_labels_set(conversation=chat, agent=ani, labels=[later.pk, vip]),
        expect={realtime.agent_group(ani.pk): 1},
    )
    assert [label.name for label in result] == ["Follow up", "VIP"]
    assert set(chat.labels.all()) == {later, vip}
    assert events[realtime.agent_group(ani.pk)] == [
        {"type": "conversation.updated", "conversation_id": chat.pk}
    ]

    # The same labels again: nothing changes, nothing is pushed.
    _same, events = events_during(
        lambda: conversation_labels_set(conversation=chat, agent=ani, labels=[vip, later]),
        expect={realtime.agent_group(ani.pk): 0},
    )
    assert events[realtime.agent_group(ani.pk)] == []

    conversation_labels_set(conversation=chat, agent=ani, labels=[])
    assert not chat.labels.exists()


def test_only_the_assigned_agent_labels_and_unknown_labels_change_nothing():
    sales = division()
    ani, budi = agent_in(sales), agent_in(sales)
    chat = open_chat(ani)
    vip = Label.objects.create(name="VIP")
    with pytest.raises(ValidationError) as error:
        conversation_labels_set(conversation=chat, agent=budi, labels=[vip])
    assert error.value.code == "not_assigned"
    with pytest.raises(ValidationError) as error:
        conversation_labels_set(conversation=chat, agent=ani, labels=[vip.pk, 999_999])
    assert error.value.code == "unknown_label"
    assert not chat.labels.exists()


def test_an_agents_conversations_filter_by_label():
    sales = division()
    ani, budi = agent_in(sales), agent_in(sales)
    vip, complaint = Label.objects.create(name="VIP"), Label.objects.create(name="Komplain")
    first, second, third = open_chat(ani), open_chat(ani), open_chat(ani)
    colleagues = open_chat(budi)
    conversation_labels_set(conversation=first, agent=ani, labels=[vip, complaint])
    conversation_labels_set(conversation=second, agent=ani, labels=[vip])
    conversation_labels_set(conversation=colleagues, agent=budi, labels=[vip])

    mine = Conversation.objects.filter(agent=ani).order_by("-last_activity_at", "-id")
    assert set(conversations_filter_by_label(mine, vip)) == {first, second}
    assert list(conversations_filter_by_label(mine, complaint.pk)) == [first]
    assert set(conversations_filter_by_label(mine, None)) == {first, second, third}
    assert [label.name for label in label_list()] == ["Komplain", "VIP"]
    assert {
        key: [label.name for label in labels]
        for key, labels in labels_for_conversations(
            conversation_ids=[first.pk, second.pk, third.pk]
        ).items()
    } == {first.pk: ["Komplain", "VIP"], second.pk: ["VIP"]}
