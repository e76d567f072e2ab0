from django.urls import path

from . import views

app_name = "chats"

urlpatterns = [
    path("inbox", views.inbox, name="inbox"),
    path("inbox/list", views.conversation_list, name="conversation_list"),
    path("inbox/c/<int:conversation_id>", views.conversation, name="conversation"),
    path("inbox/c/<int:conversation_id>/read", views.conversation_read, name="conversation_read"),
    path("inbox/m/<int:message_id>/attachment", views.message_attachment, name="attachment"),
]
