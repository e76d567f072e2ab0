from django.urls import path

from . import views

app_name = "chats"

urlpatterns = [
    path("inbox", views.inbox, name="inbox"),
]
