from django.urls import path

from . import views, views_reports

app_name = "supervision"

urlpatterns = [
    path("", views.board, name="board"),
    path("agents/<int:agent_id>/hand-back", views.agent_hand_back_all, name="agent_hand_back"),
    path("agents/<int:agent_id>/away", views.agent_away, name="agent_away"),
    path("agents/<int:agent_id>/end-sessions", views.agent_end_sessions, name="agent_end_sessions"),
    path("conversations", views.conversations, name="conversations"),
    path("c/<int:conversation_id>", views.conversation, name="conversation"),
    path("c/<int:conversation_id>/transfer", views.conversation_transfer, name="transfer"),
    path("c/<int:conversation_id>/take-over", views.conversation_take_over, name="take_over"),
    path("time-zone", views.time_zone, name="time_zone"),
    path("reports", views_reports.reports, name="reports"),
    path("reports/<str:table>.csv", views_reports.report_csv, name="report_csv"),
]
