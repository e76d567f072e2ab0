"""Public media URLs; included at the root: `path("", include("chats.media_urls"))`."""

from django.urls import path

from . import media_views

app_name = "chats_media"

urlpatterns = [
    path("media/signed/<str:signature>", media_views.signed_media, name="signed"),
    path(
        "media/signed/<str:signature>/<str:filename>",
        media_views.signed_media,
        name="signed_named",
    ),
]
