"""The public rotator link /r/<slug>: redirects to wa.me, rotates, ignores previews, counts."""

from __future__ import annotations

import random
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from devices_app.models import Device
from rotation.models import AssignmentLog, RotatorLink, RotatorMember
from rotation.services import rotator_link_open
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Linux; Android 13; CUBOT X30) AppleWebKit/537.36 Chrome/120 Mobile"


def make_link(weights=(1, 1), **kwargs) -> RotatorLink:
    link = RotatorLink.objects.create(
        slug=kwargs.pop("slug", "promo"),
        name="Promo",
        text="Halo, saya mau tanya & pesan",
        **kwargs,
    )
    for i, weight in enumerate(weights):
        device = DeviceFactory(number=f"62812000000{i:02d}")
        RotatorMember.objects.create(link=link, device=device, weight=weight)
    return link


def visit(client, slug="promo", agent=BROWSER, method="get"):
    return getattr(client, method)(
        reverse("rotation:rotator", args=[slug]), headers={"User-Agent": agent}
    )


def test_a_visitor_is_redirected_to_wa_me_with_the_text_encoded(client):
    link = make_link(weights=(1,))
    response = visit(client)
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert (url.scheme, url.netloc, url.path) == ("https", "wa.me", "/6281200000000")
    assert url.query == "text=Halo%2C%20saya%20mau%20tanya%20%26%20pesan"
    assert parse_qs(url.query)["text"] == [link.text]
    assert "no-store" in response["Cache-Control"]
    link.refresh_from_db()
    assert link.clicks == 1


def test_without_text_the_link_opens_the_plain_chat(client):
    make_link(weights=(1,), slug="plain")
    RotatorLink.objects.filter(slug="plain").update(text="")
    assert visit(client, "plain")["Location"] == "https://wa.me/6281200000000"


def test_full_rotation_with_weights_gives_each_number_its_weight_per_cycle(client, settings):
    settings.ROTATOR_VISITS_PER_MINUTE = 0  # 120 visits from one address (throttle tested apart)
    link = make_link(weights=(3, 1, 2))
    numbers = [urlsplit(visit(client)["Location"]).path[1:] for _ in range(6 * 20)]
    for c in range(20):
        assert Counter(numbers[c * 6 : c * 6 + 6]) == {
            "6281200000000": 3,
            "6281200000001": 1,
            "6281200000002": 2,
        }
    link.refresh_from_db()
    assert link.clicks == 120
    assert AssignmentLog.objects.filter(rotator_link=link, trigger="rotator").count() == 120


def test_partial_link_picks_at_random():
    link = make_link(weights=(1, 1), mode="partial")
    rng = random.Random(9)
    counts = Counter(rotator_link_open(link=link, rng=rng).number for _ in range(400))
    assert 150 < counts["6281200000000"] < 250


@pytest.mark.parametrize(
    "agent",
    [
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "WhatsApp/2.23.20.0 A",
        "Twitterbot/1.0",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "TelegramBot (like TwitterBot)",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    ],
)
def test_link_preview_bots_get_a_preview_and_use_no_turn(client, agent):
    link = make_link()
    response = visit(client, agent=agent)
    assert response.status_code == 200
    page = response.content.decode()
    assert '<meta property="og:title" content="Promo">' in page
    link.refresh_from_db()
    assert link.clicks == 0
    assert not AssignmentLog.objects.exists()


def test_head_requests_use_no_turn(client):
    link = make_link()
    response = visit(client, method="head")
    assert response.status_code == 200
    link.refresh_from_db()
    assert link.clicks == 0
    assert not AssignmentLog.objects.exists()


def test_inactive_or_unknown_links_are_not_found(client):
    make_link(is_active=False)
    assert visit(client).status_code == 404
    assert visit(client, "nope").status_code == 404


def test_disconnected_and_inactive_numbers_are_skipped(client):
    link = make_link(weights=(1, 1, 1))
    devices = [m.device for m in link.members.order_by("device__number")]
    Device.objects.filter(pk=devices[0].pk).update(status=Device.Status.DISCONNECTED)
    Device.objects.filter(pk=devices[1].pk).update(is_active=False)
    for _ in range(5):
        assert visit(client)["Location"].startswith(f"https://wa.me/{devices[2].number}")
    reasons = {row["reason"] for row in AssignmentLog.objects.first().skipped}
    assert reasons == {"disconnected", "inactive"}


def test_a_link_without_usable_numbers_says_so(client):
    link = make_link(weights=(1,))
    Device.objects.update(is_active=False)
    response = visit(client)
    assert response.status_code == 503
    assert "No number is available" in response.content.decode()
    link.refresh_from_db()
    assert link.clicks == 1


def test_posting_to_the_link_is_refused(client):
    make_link()
    assert client.post(reverse("rotation:rotator", args=["promo"])).status_code == 405
