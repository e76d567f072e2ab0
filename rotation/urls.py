from django.urls import path

from . import views

app_name = "rotation"

urlpatterns = [
    path("r/<slug:slug>", views.rotator_link_view, name="rotator"),
]
