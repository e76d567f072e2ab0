from django.urls import path

from .consumers import AgentConsumer, StaffConsumer

websocket_urlpatterns = [
    path("ws/agent/", AgentConsumer.as_asgi()),
    path("ws/staff/", StaffConsumer.as_asgi()),
]
