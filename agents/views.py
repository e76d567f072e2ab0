from __future__ import annotations

from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from .decorators import agent_required
from .forms import AgentLoginForm
from .presence import PresenceUnavailable, presence_set_away


@require_http_methods(["GET", "POST"])
def login_view(request):
    form = AgentLoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user, backend="agents.backends.AgentTokenBackend")
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = "chats:inbox"
        return redirect(next_url)
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
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = reverse("chats:inbox")
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
