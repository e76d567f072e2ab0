"""Coordinates are data, not prose: the Indonesian page (decimal comma) must still link to
-6.175392,106.827153, not to "-6,175392"."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from chats.models import Message
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["en", "id"])
def test_location_bubbles_keep_dot_decimals_in_every_language(language):
    conversation = ConversationFactory()
    message = Message.objects.create(
        conversation=conversation,
        device=conversation.device,
        direction=Message.Direction.IN,
        location_lat=Decimal("-6.175392"),
        location_lng=Decimal("106.827153"),
    )
    with translation.override(language):
        html = render_to_string("chats/partials/message.html", {"message": message})
    assert "mlat=-6.175392&amp;mlon=106.827153#map=17/-6.175392/106.827153" in html
    assert "-6.175392, 106.827153" in html
