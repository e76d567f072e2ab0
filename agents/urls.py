from django.urls import path

from . import views

app_name = "agents"

urlpatterns = [
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("presence/away", views.away_view, name="away"),
]
