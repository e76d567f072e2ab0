from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from .models import Division


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "rotation_mode",
        "online_only",
        "max_open_chats",
        "skipped_turn",
        "sticky_returning_contacts",
        "active_agents",
    ]
    list_filter = ["rotation_mode", "online_only"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name"]}),
        (_("Rotation"), {"fields": ["rotation_mode", "skipped_turn"]}),
        (_("Who is eligible"), {"fields": ["online_only", "max_open_chats"]}),
        (_("Returning contacts"), {"fields": ["sticky_returning_contacts"]}),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"online_only", "max_open_chats"} & set(form.changed_data):
            # A raised limit or "online only" turned off may make agents eligible at once;
            # the beat drain would get there within 30 s, this does it now.
            from chats.services.assignment import queue_drain  # chats sits above divisions

            queue_drain(division=obj)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(active_agent_count=Count("agents", filter=Q(agents__is_active=True)))
        )

    @admin.display(description=_("active agents"), ordering="active_agent_count")
    def active_agents(self, obj: Division) -> int:
        return obj.active_agent_count
