from __future__ import annotations

from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from agents.selectors import agent_get_for_user


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's): send them to
    Sapa's, instead of a 404 logged for every admin page. Not permanent: the static file's
    name changes with its content in production."""
    return redirect(static("img/favicon.svg"))


@require_GET
def home(request):
    if agent_get_for_user(user=request.user) is not None:
        return redirect("chats:inbox")
    if request.user.is_authenticated and request.user.is_staff:
        return redirect("supervision:board")
    return redirect("agents:login")
