from __future__ import annotations

from django.contrib.auth import login, logout
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .decorators import agent_required
from .forms import AgentLoginForm, TimeZoneForm
from .presence import PresenceUnavailable, presence_set_away
from .selectors import agent_get_for_user
from .services import agent_notifications_set_muted, agent_time_zone_set


def _next_url(request) -> str:
    """Where to go back to: the posted (or linked) `next` when it is one of our pages."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = reverse("chats:inbox")
    return next_url


@require_http_methods(["GET", "POST"])
def login_view(request):
    user = request.user
    # A signed-in supervisor has nothing to do on the agents' sign-in page.
    if (
        request.method == "GET"
        and user.is_authenticated
        and user.is_staff
        and user.is_active
        and agent_get_for_user(user=user) is None
    ):
        return redirect("supervision:board")
    form = AgentLoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user, backend="agents.backends.AgentTokenBackend")
        return redirect(_next_url(request))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "agents/login.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
def logout_view(request):
    logout(request)
    return redirect("agents:login")


# --- Away switch (rotation issue) -------------------------------------------------------------
@require_POST
@agent_required
def away_view(request):
    """The header's away switch: away agents get no new chats; coming back drains the queue."""
    from chats.services.assignment import queue_drain  # chats sits above agents

    away = request.POST.get("away") == "1"
    next_url = _next_url(request)
    try:
        presence_set_away(agent_id=request.agent.pk, away=away)
    except PresenceUnavailable:
        # Redis is down: nothing changed; the switch shows "status unknown".
        return render(
            request, "agents/partials/away_switch.html", {"away_next": next_url}, status=503
        )
    if not away:
        queue_drain(division=request.agent.division)
    if request.htmx:
        return render(request, "agents/partials/away_switch.html", {"away_next": next_url})
    return redirect(next_url)


# --- Workspace preferences (notifications, time zone) ------------------------------------------
@require_POST
@agent_required
def notifications_mute_view(request):
    """The header's bell: mute or unmute this agent's sound and desktop notifications."""
    muted = request.POST.get("muted")
    if muted not in {"0", "1"}:
        return HttpResponseBadRequest(_("Say muted=1 to mute or muted=0 to unmute."))
    agent_notifications_set_muted(agent=request.agent, muted=muted == "1")
    next_url = _next_url(request)
    if request.htmx:
        return render(request, "agents/partials/mute_switch.html", {"mute_next": next_url})
    return redirect(next_url)


@require_http_methods(["GET", "POST"])
@agent_required
def preferences_view(request):
    """The agent's time zone. The header's Preferences menu posts here; this page is where a
    refused value is explained (and the menu's fallback without JavaScript)."""
    form = TimeZoneForm(data=request.POST or None, initial={"time_zone": request.agent.time_zone})
    if request.method == "POST" and form.is_valid():
        agent_time_zone_set(agent=request.agent, time_zone=form.cleaned_data["time_zone"])
        # A full page load: every date on the page changes zone.
        return redirect(_next_url(request))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "agents/preferences.html",
        {"form": form, "prefs_next": _next_url(request)},
        status=status,
    )
