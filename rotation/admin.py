from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .models import AssignmentLog, RotationState, RotatorLink, RotatorMember
from .selectors import assignment_log_explain


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RotationState)
class RotationStateAdmin(ReadOnlyAdmin):
    list_display = ["pool", "cycle", "remaining", "picked", "kept_turns", "updated_at"]
    search_fields = ["pool"]


@admin.register(AssignmentLog)
class AssignmentLogAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "trigger",
        "pool",
        "mode",
        "cycle",
        "chosen",
        "conversation",
        "skipped_summary",
    ]
    list_filter = ["trigger", "mode", "agent__division", "rotator_link", "created_at"]
    search_fields = ["pool", "agent__name", "device__name", "note"]
    list_select_related = ["agent", "device", "conversation__contact"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "pool",
        "mode",
        "cycle",
        "trigger",
        "chosen",
        "conversation",
        "rotator_link",
        "candidate_list",
        "skipped_table",
        "notes",
    ]
    readonly_fields = fields

    @admin.display(description=_("chosen"))
    def chosen(self, obj: AssignmentLog) -> str:
        return assignment_log_explain(log=obj).chosen

    @admin.display(description=_("skipped"))
    def skipped_summary(self, obj: AssignmentLog) -> str:
        return "; ".join(f"{s.name}: {s.reason}" for s in assignment_log_explain(log=obj).skipped)

    @admin.display(description=_("candidates"))
    def candidate_list(self, obj: AssignmentLog) -> str:
        return ", ".join(assignment_log_explain(log=obj).candidates) or "—"

    @admin.display(description=_("skipped, with reasons"))
    def skipped_table(self, obj: AssignmentLog):
        skipped = assignment_log_explain(log=obj).skipped
        if not skipped:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}: {}{}</li>",
                (
                    (s.name, s.reason, "".join(f" ({x})" for x in (s.detail, s.turn) if x))
                    for s in skipped
                ),
            ),
        )

    @admin.display(description=_("notes"))
    def notes(self, obj: AssignmentLog) -> str:
        return "; ".join(assignment_log_explain(log=obj).notes) or "—"


class RotatorMemberInline(admin.TabularInline):
    model = RotatorMember
    extra = 1
    autocomplete_fields = ["device"]


@admin.register(RotatorLink)
class RotatorLinkAdmin(admin.ModelAdmin):
    list_display = ["name", "public_url", "mode", "is_active", "numbers", "clicks"]
    list_filter = ["mode", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["public_url", "clicks", "created_at"]
    fields = ["name", "slug", "public_url", "text", "mode", "is_active", "clicks", "created_at"]
    inlines = [RotatorMemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members__device")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "slug":
            # The admin renders help texts as HTML: the model's "/r/<link>" lost its "<link>"
            # as an unknown tag. Spelled out with the site's address, escaped.
            prefix = reverse("rotation:rotator", args=["x"]).removesuffix("x")
            field.help_text = format_html(
                _("The public address is {address}."),
                address=f"{settings.PUBLIC_BASE_URL}{prefix}<{_('link')}>",
            )
        return field

    @admin.display(description=_("public address"))
    def public_url(self, obj: RotatorLink) -> str:
        if not obj.pk:
            return "—"
        url = settings.PUBLIC_BASE_URL + reverse("rotation:rotator", args=[obj.slug])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    @admin.display(description=_("numbers (weight)"))
    def numbers(self, obj: RotatorLink) -> str:
        return ", ".join(f"{m.device.name} ×{m.weight}" for m in obj.members.all())
