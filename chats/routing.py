from django.urls import path

from .consumers import AgentConsumer

# `/ws/staff/` is the supervisors' socket (supervision/routing.py).
websocket_urlpatterns = [
    path("ws/agent/", AgentConsumer.as_asgi()),
]
