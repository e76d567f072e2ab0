from django.contrib import admin

from .models import AssignmentLog, RotationState


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RotationState)
class RotationStateAdmin(ReadOnlyAdmin):
    list_display = ["pool", "cycle", "remaining", "updated_at"]
    search_fields = ["pool"]


@admin.register(AssignmentLog)
class AssignmentLogAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "pool",
        "mode",
        "cycle",
        "trigger",
        "agent",
        "conversation",
        "skipped",
    ]
    list_filter = ["trigger", "mode", "pool"]
    search_fields = ["pool", "agent__name", "note"]
    list_select_related = ["agent", "conversation__contact"]
