from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from . import health, views

admin.site.site_header = _("Sapa administration")
admin.site.site_title = _("Sapa admin")
admin.site.index_title = _("Devices, divisions, agents and chats")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("agents.urls")),
    path("", include("chats.urls")),
    path("", include("chats.media_urls")),
    path("", include("rotation.urls")),
    path("", include("devices_app.urls")),
    path("sandbox/", include("devices_app.sandbox.urls")),
    path("supervision/", include("supervision.urls")),
]
