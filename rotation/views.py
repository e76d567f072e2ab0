"""The public rotator link: /r/<slug> sends each visitor to one of the link's numbers."""

from __future__ import annotations

import re
from urllib.parse import quote

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .selectors import rotator_link_get_active
from .services import rotator_link_open
from .throttle import WINDOW_SECONDS, rotator_visit_allowed

# Link-preview fetchers and crawlers: they get a preview page and use no turn. Named one by one:
# a bare "bot" would also match phones such as the Cubot.
_PREVIEW_AGENTS = re.compile(
    r"facebookexternalhit|facebookcatalog|meta-externalagent|WhatsApp|Twitterbot|Slackbot"
    r"|TelegramBot|Discordbot|LinkedInBot|Googlebot|bingbot|Applebot|SkypeUriPreview"
    r"|Pinterest|redditbot|Embedly|Iframely|vkShare|Mastodon|Bluesky|DuckDuckBot|YandexBot"
    r"|crawler|spider",
    re.IGNORECASE,
)


def is_preview_request(request) -> bool:
    return request.method == "HEAD" or bool(
        _PREVIEW_AGENTS.search(request.headers.get("User-Agent", ""))
    )


def wa_me_url(number: str, text: str) -> str:
    url = f"https://wa.me/{quote(number, safe='')}"
    return f"{url}?text={quote(text, safe='')}" if text else url


# Never cached: a cached redirect would send every later visitor to the same number.
@never_cache
@require_safe
def rotator_link_view(request, slug: str):
    link = rotator_link_get_active(slug=slug)
    if link is None:
        raise Http404
    if is_preview_request(request):
        return render(request, "rotation/preview.html", {"link": link})
    if not rotator_visit_allowed(link_id=link.pk, address=request.META.get("REMOTE_ADDR", "")):
        response = render(request, "rotation/busy.html", {"link": link}, status=429)
        response["Retry-After"] = str(WINDOW_SECONDS)
        return response
    device = rotator_link_open(link=link)
    if device is None:
        return render(request, "rotation/unavailable.html", {"link": link}, status=503)
    return HttpResponseRedirect(wa_me_url(device.number, link.text))
