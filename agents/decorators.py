from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from .selectors import agent_get_for_user


def agent_required(view):
    """Lets through a logged-in active agent and sets `request.agent`. Staff without an agent
    are sent to the supervisor area on a GET (they land there from /inbox), 403 otherwise."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        agent = agent_get_for_user(user=request.user)
        if agent is None:
            if request.method == "GET" and request.user.is_staff and request.user.is_active:
                return redirect("supervision:board")
            raise PermissionDenied
        request.agent = agent
        return view(request, *args, **kwargs)

    return wrapper
