from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from .forms import TimeZoneForm
from .models import Agent, User
from .services import (
    agent_create,
    agent_set_active,
    agent_token_regenerate,
)
from .timezones import time_zone_choices

admin.site.register(User, UserAdmin)


class AgentAdminForm(forms.ModelForm):
    """An agent usually answers for the division their device routes to: left empty, the
    division is the device's."""

    class Meta:
        model = Agent
        # The admin's get_fields() decides what is shown; these are the editable ones.
        fields = ["name", "device", "division", "max_open_chats", "is_active", "time_zone"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        division = self.fields.get("division")
        if division is not None:
            division.required = False
            division.help_text = _("Leave empty to use the division of the agent's device.")

    def clean(self) -> dict:
        cleaned = super().clean()
        device = cleaned.get("device")
        if not cleaned.get("division") and device is not None:
            cleaned["division"] = device.division
        elif not cleaned.get("division") and "device" not in self.errors:
            self.add_error("division", _("Choose a division (or a device to take it from)."))
        return cleaned


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    form = AgentAdminForm
    list_display = [
        "name",
        "division",
        "device",
        "is_active",
        "max_open_chats",
        "token_hint",
        "created_at",
    ]
    list_filter = ["is_active", "division", "device"]
    search_fields = ["name", "device__number", "device__name", "division__name"]
    list_select_related = ["division", "device"]
    readonly_fields = ["user", "token_hint", "token_created_at", "created_at"]
    actions = ["deactivate_agents", "activate_agents"]

    def get_fields(self, request, obj=None):
        fields = ["name", "device", "division", "max_open_chats", "is_active", "time_zone"]
        return (
            fields
            if obj is None
            else [
                *fields,
                "notifications_muted",
                "user",
                "token_hint",
                "token_created_at",
                "created_at",
            ]
        )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "time_zone":
            # A select of tz database names; the model's validator checks the value again.
            # Left out of a post, it is the desk's zone, as for an agent created in code.
            return forms.TypedChoiceField(
                label=db_field.verbose_name,
                error_messages={"invalid_choice": TimeZoneForm.invalid_choice_message},
                help_text=db_field.help_text,
                choices=time_zone_choices(),
                initial=db_field.get_default(),
                required=False,
                empty_value=db_field.get_default(),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            created = agent_create(
                name=obj.name,
                device=obj.device,
                division=obj.division,
                max_open_chats=obj.max_open_chats,
                time_zone=obj.time_zone,
            )
            # Hand the saved row back to the admin, which logs and redirects with `obj`.
            obj.__dict__.update(created.agent.__dict__)
            request.sapa_new_token = created.token
            if not obj.is_active:
                agent_set_active(agent=created.agent, active=False)
            return
        super().save_model(request, obj, form, change)
        # The user's switch follows the agent's. Sockets are closed or regrouped by
        # agents.access, which sees every save.
        if "is_active" in form.changed_data:
            agent_set_active(agent=obj, active=obj.is_active)

    def response_add(self, request, obj, post_url_continue=None):
        token = getattr(request, "sapa_new_token", None)
        if token is None:
            return super().response_add(request, obj, post_url_continue)
        return self._token_page(request, obj, token, created=True)

    def _token_page(self, request, agent, token, *, created):
        # Rendered straight into the response, never into a message or a redirect: the clear
        # token must not be stored anywhere, not even in a signed cookie.
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "agent": agent,
            "token": token,
            "created": created,
            "title": _("Agent token"),
            "change_url": reverse("admin:agents_agent_change", args=[agent.pk]),
        }
        response = render(request, "admin/agents/agent/token.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def get_urls(self):
        urls = [
            path(
                "<int:agent_id>/regenerate-token/",
                self.admin_site.admin_view(self.regenerate_token_view),
                name="agents_agent_regenerate_token",
            )
        ]
        return urls + super().get_urls()

    def regenerate_token_view(self, request, agent_id: int):
        agent = get_object_or_404(
            Agent.objects.select_related("device", "division", "user"), pk=agent_id
        )
        if not self.has_change_permission(request, agent):
            raise PermissionDenied
        if request.method == "POST":
            token = agent_token_regenerate(agent=agent)
            return self._token_page(request, agent, token, created=False)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "agent": agent,
            "title": _("Regenerate token"),
        }
        return render(request, "admin/agents/agent/regenerate_confirm.html", context)

    @admin.action(description=_("Deactivate selected agents (ends their sessions)"))
    def deactivate_agents(self, request, queryset):
        for agent in queryset.select_related("user"):
            agent_set_active(agent=agent, active=False)
        messages.success(request, _("Agents deactivated; their open sessions were ended."))

    @admin.action(description=_("Activate selected agents"))
    def activate_agents(self, request, queryset):
        for agent in queryset.select_related("user"):
            agent_set_active(agent=agent, active=True)
        messages.success(request, _("Agents activated."))
