"""Attachments of earlier conversations: the thread shows a contact's earlier episodes above the
current one, so their files open for the agent who sees the current chat, and for nobody
else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from chats.models import Conversation, Message
from tests.factories import ContactFactory, ConversationFactory

from .media_support import PNG_BYTES
from .test_access import login, people  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def episode(contact, agent, *, days_ago: int, status: str) -> Conversation:
    return ConversationFactory(
        contact=contact,
        agent=agent,
        status=status,
        opened_at=timezone.now() - timedelta(days=days_ago),
    )


def photo_in(conversation: Conversation) -> Message:
    message = Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.IN,
        attachment_name="photo.png",
        attachment_state=Message.AttachmentState.STORED,
    )
    message.attachment_file.save("photo.png", ContentFile(PNG_BYTES), save=True)
    return message


def test_an_earlier_episodes_file_opens_for_the_agent_of_the_current_chat(
    media_root,
    fonnte_device,
    people,  # noqa: F811
):
    ani, budi, citra = people["ani"], people["budi"], people["citra"]
    contact = ContactFactory(device=fonnte_device, address="6282100000001", name="Rama")
    earlier = episode(contact, budi.agent, days_ago=9, status=Conversation.Status.RESOLVED)
    episode(contact, ani.agent, days_ago=1, status=Conversation.Status.OPEN)
    url = reverse("chats:attachment", args=[photo_in(earlier).pk])

    answer = login(ani).get(url)
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == PNG_BYTES
    assert login(budi).get(url).status_code == 200  # his own earlier chat
    assert login(citra).get(url).status_code == 404  # another division


def test_a_later_episode_handled_by_a_colleague_stays_closed(
    media_root,
    fonnte_device,
    people,  # noqa: F811
):
    # Ani's chat was resolved; the customer came back later and Budi has that chat. Ani's
    # thread ends at her chat, so Budi's later files are not hers to open.
    ani, budi = people["ani"], people["budi"]
    contact = ContactFactory(device=fonnte_device, address="6282100000001", name="Rama")
    episode(contact, ani.agent, days_ago=9, status=Conversation.Status.RESOLVED)
    later = episode(contact, budi.agent, days_ago=1, status=Conversation.Status.OPEN)
    url = reverse("chats:attachment", args=[photo_in(later).pk])

    assert login(ani).get(url).status_code == 404
    assert login(budi).get(url).status_code == 200
