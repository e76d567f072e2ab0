from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Contact, Conversation, Label, Message


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "color", "created_at"]
    list_filter = ["color"]
    search_fields = ["name"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "address", "device", "is_group", "created_at"]
    list_filter = ["is_group", "device"]
    search_fields = ["name", "address"]
    list_select_related = ["device"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "contact",
        "device",
        "division",
        "agent",
        "status",
        "unread_count",
        "last_activity_at",
    ]
    list_filter = ["status", "division", "device", "agent"]
    search_fields = ["contact__name", "contact__address", "last_message_preview"]
    list_select_related = ["contact", "device", "division", "agent"]
    filter_horizontal = ["labels"]
    date_hierarchy = "opened_at"
    # Who holds a chat and its state change only through the services (locks, the assignment
    # log, live pushes): an edit here would leave the old agent's screen and the log behind.
    # The response time, unread count and activity are the services' record of what happened.
    readonly_fields = [
        "contact",
        "device",
        "agent",
        "division",
        "status",
        "opened_at",
        "assigned_at",
        "first_response_at",
        "resolved_at",
        "last_activity_at",
        "last_message_preview",
        "unread_count",
    ]

    def has_add_permission(self, request):
        # A conversation begins with a customer's message or an agent's new chat (services),
        # never as a bare row nobody is told about.
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "conversation",
        "direction",
        "status",
        "short_text",
        "sender_agent",
        "created_at",
    ]
    list_filter = ["direction", "status", "device"]
    search_fields = ["text", "gateway_message_id", "gateway_state_id"]
    list_select_related = ["conversation__contact", "sender_agent"]
    raw_id_fields = ["poll_vote_for", "quoted"]
    # A status edited back to `queued` would make the sweep send the message again without a
    # person choosing to: delivery state moves only through the send path and status webhooks.
    readonly_fields = [
        "conversation",
        "device",
        "direction",
        "sender_agent",
        "dedupe_key",
        "raw",
        "status",
        "failure_reason",
        "wait_reason",
        "gateway_inbox_id",
        "gateway_message_id",
        "gateway_state_id",
        "send_attempts",
        "send_started_at",
        "next_attempt_at",
        "gateway_timestamp",
        "sent_at",
        "delivered_at",
        "read_at",
        "attachment_state",
        "attachment_error",
        "attachment_size",
        "attachment_content_type",
        "collided_with",
    ]

    def has_add_permission(self, request):
        # A message is received through a webhook or sent through the reply services, which
        # store, deliver and push it; a row added here would reach nobody.
        return False

    @admin.display(description=_("text"))
    def short_text(self, obj: Message) -> str:
        return obj.text[:80]
