from __future__ import annotations

from django.urls import path, re_path

from . import views

app_name = "sandbox"

urlpatterns = [
    path("", views.customer_start, name="start"),
    path("chat", views.customer_chat, name="chat"),
    path("chat/write", views.customer_write, name="write"),
    path("files/<str:signature>/<str:filename>", views.customer_file, name="file"),
    path("device/<int:device_id>/connection", views.device_connection, name="device_connection"),
    # Fonnte's API paths, with or without a trailing slash (a redirect would drop the POST body).
    re_path(r"^fonnte/send/?$", views.fonnte_send, name="fonnte_send"),
    re_path(r"^fonnte/device/?$", views.fonnte_device, name="fonnte_device"),
    re_path(r"^fonnte/qr/?$", views.fonnte_qr, name="fonnte_qr"),
]
