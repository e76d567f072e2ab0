"""Agents log in with the number of their device and their token."""

from __future__ import annotations

import hmac

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from devices_app.phone import InvalidNumber, normalize_number

from .models import User
from .tokens import token_hash


class AgentTokenBackend(BaseBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        device_number: str | None = None,
        token: str | None = None,
        **kwargs,
    ) -> User | None:
        if device_number is None or not token:
            return None
        try:
            number = normalize_number(device_number)
        except InvalidNumber:
            return None
        digest = token_hash(token)
        from .selectors import agent_get_by_token_hash

        agent = agent_get_by_token_hash(token_hash=digest)
        if agent is None:
            return None
        # The lookup matched on the hash; compare again in constant time, and check the number
        # after it so a wrong number and a wrong token take the same path.
        if not hmac.compare_digest(agent.token_hash, digest) or agent.device.number != number:
            return None
        if not (agent.is_active and agent.user.is_active):
            return None
        return agent.user

    def get_user(self, user_id: int) -> User | None:
        user = User.objects.select_related("agent").filter(pk=user_id, is_active=True).first()
        if user is None:
            return None
        agent = getattr(user, "agent", None)
        if agent is not None and not agent.is_active:
            return None
        return user


def axes_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """Lockout key: the normalized device number, so `08…` and `628…` share one counter."""
    credentials = credentials or {}
    raw = credentials.get("device_number")
    if raw is None and request is not None and hasattr(request, "POST"):
        raw = request.POST.get("device_number")
    if raw is not None:
        try:
            return normalize_number(raw)
        except InvalidNumber:
            return "".join(ch for ch in str(raw) if ch.isdigit()) or str(raw)[:32]
    return credentials.get("username") or (
        request.POST.get("username") if request is not None else None
    )
