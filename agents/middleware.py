from __future__ import annotations

from django.utils import timezone

from .selectors import agent_get_for_user
from .timezones import agent_time_zone


class AgentTimeZoneMiddleware:
    """Render an agent's pages in the agent's time zone; everyone else gets settings.TIME_ZONE.

    After AuthenticationMiddleware. The agent row is the one the workspace views and the
    context processor read anyway (cached on `request.user`), so this adds no query for them.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        agent = agent_get_for_user(user=getattr(request, "user", None))
        if agent is not None:
            timezone.activate(agent_time_zone(agent))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
