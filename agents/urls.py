from django.urls import path

from . import views

app_name = "agents"

urlpatterns = [
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("presence/away", views.away_view, name="away"),
    path("preferences", views.preferences_view, name="preferences"),
    path("preferences/mute", views.notifications_mute_view, name="mute"),
]
