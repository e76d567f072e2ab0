"""The project's URLs plus the public media URLs (the lead wires chats.media_urls into
config/urls.py; until then the media tests use this)."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("", include("chats.media_urls"))]
