from __future__ import annotations

from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from .forms import AgentLoginForm


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
