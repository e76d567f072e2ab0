from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from .scope import supervisor_scope_for_user


def supervisor_required(view):
    """Active staff only (agents and others get 403); sets `request.scope` and renders in the
    supervisor's time zone. Anonymous users go to the admin's sign-in, where staff sign in."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        scope = supervisor_scope_for_user(user=request.user)
        if scope is None:
            raise PermissionDenied
        request.scope = scope
        with timezone.override(scope.time_zone):
            return view(request, *args, **kwargs)

    return wrapper
