from django.contrib import admin

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
    raw_id_fields = ["contact"]
    filter_horizontal = ["labels"]
    date_hierarchy = "opened_at"
    # Who holds a chat and its state change only through the services (locks, the assignment
    # log, live pushes): an edit here would leave the old agent's screen and the log behind.
    readonly_fields = [
        "agent",
        "division",
        "status",
        "opened_at",
        "assigned_at",
        "first_response_at",
        "resolved_at",
    ]


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
    raw_id_fields = ["conversation", "sender_agent", "poll_vote_for", "quoted"]
    # A status edited back to `queued` would make the sweep send the message again without a
    # person choosing to: delivery state moves only through the send path and status webhooks.
    readonly_fields = [
        "dedupe_key",
        "raw",
        "status",
        "failure_reason",
        "gateway_message_id",
        "gateway_state_id",
    ]

    @admin.display(description="text")
    def short_text(self, obj: Message) -> str:
        return obj.text[:80]
