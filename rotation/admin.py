from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .models import AssignmentLog, LogNote, RotationState, RotatorLink, RotatorMember, SkipReason


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RotationState)
class RotationStateAdmin(ReadOnlyAdmin):
    list_display = ["pool", "cycle", "remaining", "picked", "kept_turns", "updated_at"]
    search_fields = ["pool"]


def _people(rows: list) -> str:
    return ", ".join(str(r.get("name") or r.get("id")) for r in rows if isinstance(r, dict))


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
        if obj.agent_id:
            return str(obj.agent)
        if obj.device_id:
            return str(obj.device)
        if obj.chosen_member:
            return f"#{obj.chosen_member}"
        return _("nobody (queued)") if obj.conversation_id else _("nobody")

    @admin.display(description=_("skipped"))
    def skipped_summary(self, obj: AssignmentLog) -> str:
        reasons = dict(SkipReason.choices)
        return "; ".join(
            f"{row.get('name') or row.get('id')}: {reasons.get(row['reason'], row['reason'])}"
            for row in obj.skipped
            if isinstance(row, dict) and "reason" in row
        )

    @admin.display(description=_("candidates"))
    def candidate_list(self, obj: AssignmentLog) -> str:
        return _people(obj.candidates) or "—"

    @admin.display(description=_("skipped, with reasons"))
    def skipped_table(self, obj: AssignmentLog):
        if not obj.skipped:
            return "—"
        reasons = dict(SkipReason.choices)
        turns = {"kept": _("turn kept for later"), "forfeited": _("turn forfeited")}
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}: {}{}</li>",
                (
                    (
                        row.get("name") or row.get("id"),
                        reasons.get(row.get("reason"), row.get("reason")),
                        "".join(
                            f" ({part})"
                            for part in (row.get("detail"), turns.get(row.get("turn")))
                            if part
                        ),
                    )
                    for row in obj.skipped
                    if isinstance(row, dict)
                ),
            ),
        )

    @admin.display(description=_("notes"))
    def notes(self, obj: AssignmentLog) -> str:
        labels = dict(LogNote.choices)
        return "; ".join(str(labels.get(code, code)) for code in obj.note.split(";") if code) or "—"


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

    @admin.display(description=_("public address"))
    def public_url(self, obj: RotatorLink) -> str:
        if not obj.pk:
            return "—"
        url = settings.PUBLIC_BASE_URL + reverse("rotation:rotator", args=[obj.slug])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    @admin.display(description=_("numbers (weight)"))
    def numbers(self, obj: RotatorLink) -> str:
        return ", ".join(f"{m.device.name} ×{m.weight}" for m in obj.members.all())
