from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from agents.decorators import agent_required


@require_GET
@agent_required
def inbox(request):
    return render(request, "chats/inbox.html", {"agent": request.agent})
