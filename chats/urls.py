from django.urls import path

from . import views, views_actions, views_compose

app_name = "chats"

urlpatterns = [
    path("inbox", views.inbox, name="inbox"),
    path("inbox/list", views.conversation_list, name="conversation_list"),
    path("inbox/devices", views.device_banners, name="device_banners"),
    path("inbox/c/<int:conversation_id>", views.conversation, name="conversation"),
    path(
        "inbox/c/<int:conversation_id>/older", views.conversation_older, name="conversation_older"
    ),
    path("inbox/c/<int:conversation_id>/read", views.conversation_read, name="conversation_read"),
    path(
        "inbox/c/<int:conversation_id>/take", views.conversation_take_view, name="conversation_take"
    ),
    path(
        "inbox/c/<int:conversation_id>/resolve",
        views.conversation_resolve_view,
        name="conversation_resolve",
    ),
    path(
        "inbox/c/<int:conversation_id>/reopen",
        views.conversation_reopen_view,
        name="conversation_reopen",
    ),
    path("inbox/m/<int:message_id>/retry", views.message_retry_view, name="message_retry"),
    path("inbox/m/<int:message_id>/attachment", views.message_attachment, name="attachment"),
    # Conversation actions (chats/views_actions.py)
    path("inbox/new", views_actions.new_chat, name="new_chat"),
    path(
        "inbox/c/<int:conversation_id>/transfer",
        views_actions.conversation_transfer_view,
        name="conversation_transfer",
    ),
    path(
        "inbox/c/<int:conversation_id>/hand-back",
        views_actions.conversation_hand_back_view,
        name="conversation_hand_back",
    ),
    path(
        "inbox/c/<int:conversation_id>/labels",
        views_actions.conversation_labels_view,
        name="conversation_labels",
    ),
]

# The reply box's tools (chats/views_compose.py).
urlpatterns += [
    path(
        "inbox/c/<int:conversation_id>/send",
        views_compose.conversation_send,
        name="conversation_send",
    ),
    path(
        "inbox/c/<int:conversation_id>/quick-replies",
        views_compose.quick_reply_picker,
        name="quick_reply_picker",
    ),
    path(
        "inbox/c/<int:conversation_id>/poll",
        views_compose.conversation_poll,
        name="conversation_poll",
    ),
    path(
        "inbox/c/<int:conversation_id>/location",
        views_compose.conversation_location,
        name="conversation_location",
    ),
]
