from __future__ import annotations

from django.contrib import admin

from .models import SupervisorAction, SupervisorScope


@admin.register(SupervisorScope)
class SupervisorScopeAdmin(admin.ModelAdmin):
    list_display = ["user", "all_divisions", "time_zone"]
    filter_horizontal = ["divisions"]


@admin.register(SupervisorAction)
class SupervisorActionAdmin(admin.ModelAdmin):
    """The log of supervisor actions: written by the services only."""

    list_display = ["created_at", "actor", "kind", "agent", "chats_moved"]
    list_filter = ["kind"]
    readonly_fields = ["created_at", "actor", "kind", "agent", "chats_moved"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
