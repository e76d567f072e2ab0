from django.urls import path

from .consumers import SupervisorConsumer

websocket_urlpatterns = [
    path("ws/staff/", SupervisorConsumer.as_asgi()),
]
