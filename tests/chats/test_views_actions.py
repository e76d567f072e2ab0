"""The workspace's conversation actions as an agent uses them: the transfer and hand-back
buttons, labels in the side panel and the inbox filter, and "New chat" (chats/views_actions.py
and the inbox views' label filter). Real services, real Redis for presence."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from agents.presence import presence_connect, presence_set_away
from agents.services import agent_create
from chats.live import Viewer, render_conversation
from chats.models import Conversation, Label, Message
from chats.selectors import INBOX_PAGE
from chats.services.outbound import MAX_TEXT_LENGTH
from rotation.models import AssignmentLog
from tests.factories import ContactFactory, ConversationFactory, DeviceFactory, StaffFactory

from .test_live_inbound import open_socket
from .tools_support import agent_in, division, open_chat

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
OPEN, QUEUED, RESOLVED = (
    Conversation.Status.OPEN,
    Conversation.Status.QUEUED,
    Conversation.Status.RESOLVED,
)


def client_for(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def triggers(response) -> dict:
    return json.loads(response.headers.get("HX-Trigger", "{}"))


@pytest.fixture
def sales():
    return division(name="Sales")


@pytest.fixture
def people(sales):
    """Ani and Budi in Sales (one device), Citra in Support; Ani has an open chat with Rama."""
    device = DeviceFactory(number="6287700000001", division=sales)
    ani = agent_in(sales, device=device, name="Ani")
    budi = agent_in(sales, device=device, name="Budi")
    support = division(name="Support")
    citra = agent_in(support, name="Citra")
    chat = open_chat(ani, name="Rama", address="6281299990001")
    return ani, budi, citra, chat


def unchanged(chat, agent) -> None:
    chat.refresh_from_db()
    assert (chat.agent_id, chat.status) == (agent.pk, OPEN)
    assert not Message.objects.filter(conversation=chat).exists()
    assert not AssignmentLog.objects.filter(conversation=chat).exists()


# --- Transfer ----------------------------------------------------------------------------------


def test_the_transfer_dialog_lists_colleagues_with_presence_and_load_and_the_divisions(people):
    ani, budi, citra, chat = people
    other = agent_in(ani.division, name="Eka")
    open_chat(budi)
    open_chat(budi)
    presence_connect(agent_id=budi.pk, conn="tab-1")
    presence_set_away(agent_id=other.pk, away=True)

    response = client_for(ani).get(
        reverse("chats:conversation_transfer", args=[chat.pk]), headers=HX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert '<dialog id="transfer-dialog"' in html and " open" not in html.split(">")[1]
    assert f'value="agent:{budi.pk}"' in html and f'value="agent:{other.pk}"' in html
    assert f'value="agent:{ani.pk}"' not in html  # not to oneself
    assert f'value="agent:{citra.pk}"' not in html  # colleagues are of the same division
    assert "presence-online" in html and "presence-away" in html
    assert "2 open chats" in html and "0 open chats" in html
    assert f'value="division:{ani.division_id}"' in html
    assert f'value="division:{citra.division_id}"' in html


def test_without_htmx_the_transfer_dialog_opens_over_the_whole_workspace(people):
    ani, _budi, _citra, chat = people
    response = client_for(ani).get(reverse("chats:conversation_transfer", args=[chat.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="inbox-pane"' in html and 'id="thread-pane"' in html
    assert '<dialog id="transfer-dialog" class="action-dialog"' in html
    assert "data-autoopen open>" in html


def test_transfer_to_a_colleague_moves_the_chat_with_its_note_and_clears_the_pane(people):
    ani, budi, _citra, chat = people

    response = client_for(ani).post(
        reverse("chats:conversation_transfer", args=[chat.pk]),
        {"target": f"agent:{budi.pk}", "note": "Wants the premium price list."},
        headers=HX,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Transferred to Budi." in html
    assert 'id="thread-pane"' in html and "data-conversation-id" not in html
    assert '<div id="dialog-slot" hx-swap-oob="true"></div>' in html
    assert response.headers["HX-Push-Url"] == reverse("chats:inbox")
    assert triggers(response) == {
        "sapa:list-changed": {},
        "sapa:notice": {"text": "Transferred to Budi."},
    }
    chat.refresh_from_db()
    assert (chat.agent_id, chat.status) == (budi.pk, OPEN)
    note = Message.objects.get(conversation=chat)
    assert (note.direction, note.text, note.sender_agent_id) == (
        Message.Direction.NOTE,
        "Wants the premium price list.",
        ani.pk,
    )
    assert AssignmentLog.objects.get(conversation=chat).trigger == AssignmentLog.Trigger.TRANSFER
    # Budi sees it with the note in the thread; Ani no longer may.
    thread = client_for(budi).get(reverse("chats:conversation", args=[chat.pk]), headers=HX)
    assert "Wants the premium price list." in thread.content.decode()
    assert "Internal note" in thread.content.decode()
    gone = client_for(ani).get(reverse("chats:conversation", args=[chat.pk]), headers=HX)
    assert gone.status_code == 404


def test_transfer_to_a_division_goes_to_whoever_its_rotation_picks(people):
    ani, _budi, citra, chat = people
    response = client_for(ani).post(
        reverse("chats:conversation_transfer", args=[chat.pk]),
        {"target": f"division:{citra.division_id}", "note": ""},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Transferred to Support: Citra has it now." in response.content.decode()
    chat.refresh_from_db()
    assert (chat.agent_id, chat.division_id, chat.status) == (citra.pk, citra.division_id, OPEN)
    assert not Message.objects.filter(conversation=chat).exists()  # no note written


def test_transfer_to_a_division_with_nobody_there_waits_in_its_queue(people):
    ani, _budi, _citra, chat = people
    empty = division(name="Billing")
    response = client_for(ani).post(
        reverse("chats:conversation_transfer", args=[chat.pk]),
        {"target": f"division:{empty.pk}"},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Transferred to Billing: it waits in the queue there." in response.content.decode()
    chat.refresh_from_db()
    assert (chat.agent_id, chat.division_id, chat.status) == (None, empty.pk, QUEUED)


def test_without_htmx_a_transfer_redirects_to_the_inbox(people):
    ani, budi, _citra, chat = people
    response = client_for(ani).post(
        reverse("chats:conversation_transfer", args=[chat.pk]), {"target": f"agent:{budi.pk}"}
    )
    assert response.status_code == 302 and response.url == reverse("chats:inbox")
    chat.refresh_from_db()
    assert chat.agent_id == budi.pk


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("", "Choose a colleague or a division to transfer to."),
        ("agent:999999", "Choose a colleague or a division to transfer to."),
        ("division:999999", "Choose a colleague or a division to transfer to."),
        ("nobody:1", "Choose a colleague or a division to transfer to."),
        # isdigit() is true for "²", which int() refuses: a clear error, not a 500.
        ("agent:²", "Choose a colleague or a division to transfer to."),
        ("self", "The conversation is already assigned to Ani."),
        ("inactive", "That agent is not active."),
    ],
)
def test_a_refused_transfer_says_why_in_the_dialog_and_changes_nothing(people, target, reason):
    ani, budi, _citra, chat = people
    if target == "self":
        target = f"agent:{ani.pk}"
    elif target == "inactive":
        budi.is_active = False
        budi.save(update_fields=["is_active"])
        target = f"agent:{budi.pk}"

    response = client_for(ani).post(
        reverse("chats:conversation_transfer", args=[chat.pk]),
        {"target": target, "note": "Keep this text"},
        headers=HX,
    )

    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#transfer-form"
    assert response.headers["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="transfer-form"')
    assert 'role="alert"' in html and reason in html
    assert "Keep this text" in html  # the note is not lost
    unchanged(chat, ani)


def test_a_refused_transfer_keeps_the_chosen_target_checked(people):
    ani, _budi, _citra, chat = people
    response = client_for(ani).post(
        reverse("chats:conversation_transfer", args=[chat.pk]),
        {"target": f"agent:{ani.pk}"},
        headers=HX,
    )
    assert response.status_code == 422
    html = response.content.decode()
    # Ani is not listed; nothing else was chosen, so nothing is checked.
    assert " checked" not in html


def test_a_too_long_transfer_note_is_refused(people):
    ani, budi, _citra, chat = people
    response = client_for(ani).post(
        reverse("chats:conversation_transfer", args=[chat.pk]),
        {"target": f"agent:{budi.pk}", "note": "x" * 10_001},
        headers=HX,
    )
    assert response.status_code == 422
    assert "The note is too long" in response.content.decode()
    assert f'value="agent:{budi.pk}" required checked' in response.content.decode()
    unchanged(chat, ani)


def test_only_the_assigned_agent_may_transfer(people):
    ani, budi, citra, chat = people
    url = reverse("chats:conversation_transfer", args=[chat.pk])
    for outsider in (budi, citra):
        client = client_for(outsider)
        assert client.get(url, headers=HX).status_code == 404
        assert client.post(url, {"target": f"agent:{outsider.pk}"}, headers=HX).status_code == 404
    # A chat waiting in the queue is visible to the division, but only its holder moves it.
    queued = ConversationFactory(
        contact=ContactFactory(device=ani.device), division=ani.division, status=QUEUED
    )
    response = client_for(budi).post(
        reverse("chats:conversation_transfer", args=[queued.pk]),
        {"target": f"agent:{ani.pk}"},
        headers=HX,
    )
    assert response.status_code == 422
    assert "This conversation is not assigned to you." in response.content.decode()
    queued.refresh_from_db()
    assert (queued.agent_id, queued.status) == (None, QUEUED)
    unchanged(chat, ani)


def test_staff_without_an_agent_and_anonymous_visitors_get_no_actions(people):
    _ani, budi, _citra, chat = people
    staff = Client()
    staff.force_login(StaffFactory())
    for url in (
        reverse("chats:conversation_transfer", args=[chat.pk]),
        reverse("chats:conversation_hand_back", args=[chat.pk]),
        reverse("chats:conversation_labels", args=[chat.pk]),
        reverse("chats:new_chat"),
    ):
        assert staff.post(url, {"target": f"agent:{budi.pk}"}).status_code == 403
        assert Client().post(url).status_code == 302  # to the login page


def test_action_posts_need_the_csrf_token(people):
    ani, budi, _citra, chat = people
    client = Client(enforce_csrf_checks=True)
    client.force_login(ani.user)
    posts = [
        (reverse("chats:conversation_transfer", args=[chat.pk]), {"target": f"agent:{budi.pk}"}),
        (reverse("chats:conversation_hand_back", args=[chat.pk]), {}),
        (reverse("chats:conversation_labels", args=[chat.pk]), {}),
        (reverse("chats:new_chat"), {"number": "081234567890"}),
    ]
    for url, data in posts:
        assert client.post(url, data, headers=HX).status_code == 403
    unchanged(chat, ani)
    assert Conversation.objects.count() == 1


@pytest.mark.django_db(transaction=True)
async def test_a_transfer_from_the_button_reaches_both_agents_pages():
    sales = await sync_to_async(division)(name="Sales")
    device = await sync_to_async(DeviceFactory)(number="6287700000001", division=sales)
    ani, budi = [
        await sync_to_async(agent_create)(
            name=name, device=device, division=sales, token=f"sapa_test-token-{name.lower()}"
        )
        for name in ("Ani", "Budi")
    ]
    chat = await sync_to_async(open_chat)(ani.agent, name="Rama")
    old_socket, new_socket = await open_socket(ani), await open_socket(budi)

    response = await sync_to_async(
        lambda: client_for(ani.agent).post(
            reverse("chats:conversation_transfer", args=[chat.pk]),
            {"target": f"agent:{budi.agent.pk}", "note": "Over to you"},
            headers=HX,
        )
    )()

    assert response.status_code == 200
    gone = await old_socket.receive_from(timeout=10)
    assert f'hx-swap-oob="delete:#conversation-{chat.pk}"' in gone
    told = await new_socket.receive_from(timeout=10)
    assert f'id="conversation-{chat.pk}"' in told and "Rama" in told
    await old_socket.disconnect()
    await new_socket.disconnect()


# --- Hand back ---------------------------------------------------------------------------------


def test_hand_back_gives_the_chat_to_a_colleague(people):
    ani, budi, _citra, chat = people
    response = client_for(ani).post(
        reverse("chats:conversation_hand_back", args=[chat.pk]), headers=HX
    )
    assert response.status_code == 200
    assert "Handed back: Budi has it now." in response.content.decode()
    assert triggers(response)["sapa:list-changed"] == {}
    chat.refresh_from_db()
    assert (chat.agent_id, chat.status) == (budi.pk, OPEN)
    log = AssignmentLog.objects.get(conversation=chat)
    assert log.trigger == AssignmentLog.Trigger.HAND_BACK


def test_hand_back_with_nobody_else_leaves_the_chat_in_the_queue_where_the_agent_sees_it(sales):
    ani = agent_in(sales, name="Ani")
    chat = open_chat(ani)
    response = client_for(ani).post(
        reverse("chats:conversation_hand_back", args=[chat.pk]), headers=HX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-conversation-id="{chat.pk}"' in html  # still on screen, now queued
    assert "Handed back: it waits in your division&#x27;s queue." in html
    assert "Take this chat" in html
    chat.refresh_from_db()
    assert (chat.agent_id, chat.status) == (None, QUEUED)


def test_a_refused_hand_back_shows_why_and_changes_nothing(people):
    ani, budi, citra, chat = people
    Conversation.objects.filter(pk=chat.pk).update(status=RESOLVED)
    response = client_for(ani).post(
        reverse("chats:conversation_hand_back", args=[chat.pk]), headers=HX
    )
    assert response.status_code == 409
    assert "This conversation is resolved." in response.content.decode()
    chat.refresh_from_db()
    assert (chat.agent_id, chat.status) == (ani.pk, RESOLVED)
    for outsider in (budi, citra):
        url = reverse("chats:conversation_hand_back", args=[chat.pk])
        assert client_for(outsider).post(url, headers=HX).status_code == 404


def test_the_header_offers_transfer_and_hand_back_only_on_the_agents_open_chat(people):
    ani, _budi, _citra, chat = people
    url = reverse("chats:conversation", args=[chat.pk])
    html = client_for(ani).get(url, headers=HX).content.decode()
    assert reverse("chats:conversation_transfer", args=[chat.pk]) in html
    assert reverse("chats:conversation_hand_back", args=[chat.pk]) in html
    assert "hx-confirm=" in html
    Conversation.objects.filter(pk=chat.pk).update(status=RESOLVED)
    html = client_for(ani).get(url, headers=HX).content.decode()
    assert reverse("chats:conversation_transfer", args=[chat.pk]) not in html
    assert reverse("chats:conversation_reopen", args=[chat.pk]) in html


# --- Labels ------------------------------------------------------------------------------------


@pytest.fixture
def labels():
    return (
        Label.objects.create(name="VIP", color=Label.Color.PURPLE),
        Label.objects.create(name="Complaint", color=Label.Color.RED),
    )


def test_labels_are_set_from_the_side_panel(people, labels):
    ani, _budi, _citra, chat = people
    vip, complaint = labels
    client = client_for(ani)
    url = reverse("chats:conversation_labels", args=[chat.pk])

    response = client.post(url, {"labels": [vip.pk, complaint.pk]}, headers=HX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<section id="conversation-{chat.pk}-labels"')
    assert 'class="label-chip label-purple">VIP<' in html
    assert 'class="label-chip label-red">Complaint<' in html
    assert triggers(response) == {"sapa:list-changed": {}}
    assert set(chat.labels.all()) == {vip, complaint}
    # Nothing ticked clears them.
    assert client.post(url, {}, headers=HX).status_code == 200
    assert not chat.labels.exists()
    # Without htmx: back to the thread.
    plain = client.post(url, {"labels": [vip.pk]})
    assert plain.status_code == 302 and plain.url == reverse("chats:conversation", args=[chat.pk])
    assert list(chat.labels.all()) == [vip]


@pytest.mark.parametrize("value", ["999999", "VIP", "-1", "²"])
def test_an_unknown_label_is_refused_and_changes_nothing(people, labels, value):
    ani, _budi, _citra, chat = people
    vip, _complaint = labels
    chat.labels.set([vip])
    response = client_for(ani).post(
        reverse("chats:conversation_labels", args=[chat.pk]),
        {"labels": [value]},
        headers=HX,
    )
    assert response.status_code == 422
    assert "That label no longer exists." in response.content.decode()
    assert "HX-Trigger" not in response.headers
    assert list(chat.labels.all()) == [vip]


def test_only_the_assigned_agent_labels_a_chat(people, labels):
    ani, budi, citra, chat = people
    vip, _complaint = labels
    url = reverse("chats:conversation_labels", args=[chat.pk])
    for outsider in (budi, citra):
        response = client_for(outsider).post(url, {"labels": [vip.pk]}, headers=HX)
        assert response.status_code == 404
    queued = ConversationFactory(
        contact=ContactFactory(device=ani.device), division=ani.division, status=QUEUED
    )
    response = client_for(budi).post(
        reverse("chats:conversation_labels", args=[queued.pk]), {"labels": [vip.pk]}, headers=HX
    )
    assert response.status_code == 422
    assert "This conversation is not assigned to you." in response.content.decode()
    assert not chat.labels.exists() and not queued.labels.exists()


def test_the_side_panel_shows_labels_and_the_editor_only_to_the_holder(people, labels):
    ani, budi, _citra, chat = people
    vip, complaint = labels
    chat.labels.set([vip])
    html = client_for(ani).get(reverse("chats:conversation", args=[chat.pk])).content.decode()
    assert f'id="conversation-{chat.pk}-labels"' in html
    assert f'name="labels" value="{vip.pk}" checked' in html
    assert f'name="labels" value="{complaint.pk}">' in html
    queued = ConversationFactory(
        contact=ContactFactory(device=ani.device), division=ani.division, status=QUEUED
    )
    queued.labels.set([complaint])
    html = client_for(budi).get(reverse("chats:conversation", args=[queued.pk])).content.decode()
    assert 'class="label-chip label-red">Complaint<' in html
    assert 'name="labels"' not in html


def test_inbox_rows_show_their_labels_and_the_filter_narrows_the_list(people, labels):
    ani, _budi, _citra, chat = people
    vip, complaint = labels
    plain = open_chat(ani, name="Sinta")
    chat.labels.set([vip, complaint])
    client = client_for(ani)

    html = client.get(reverse("chats:inbox")).content.decode()
    assert f'data-label-ids=" {complaint.pk} {vip.pk} "' in html  # by name
    assert 'class="label-chip label-purple">VIP<' in html
    assert '<select id="inbox-label" name="label"' in html

    filtered = client.get(reverse("chats:inbox"), {"label": vip.pk}).content.decode()
    assert f'id="conversation-{chat.pk}"' in filtered
    assert f'id="conversation-{plain.pk}"' not in filtered
    assert f'<option value="{vip.pk}" selected>' in filtered
    assert f'data-label="{vip.pk}"' in filtered
    # The tabs keep the filter; the list's own refresh URL carries it.
    assert f"?tab=queue&amp;label={vip.pk}" in filtered
    assert f"&amp;label={vip.pk}" in filtered.split('id="conversation-list"')[1].split(">")[0]
    # Search and filter together, as the search box asks for the list.
    both = client.get(
        reverse("chats:inbox"),
        {"tab": "mine", "q": "Sinta", "label": vip.pk},
        headers={**HX, "HX-Target": "conversation-list"},
    ).content.decode()
    assert "conversation-item" not in both
    assert "No chat of yours matches" in both and "The label filter is on too." in both
    # A label nobody has: the empty state says so; a junk value means no filter.
    nobody = client.get(reverse("chats:inbox"), {"label": complaint.pk + 100}).content.decode()
    assert "No chat in this tab has this label." in nobody
    junk = client.get(reverse("chats:inbox"), {"label": "x"}).content.decode()
    assert f'id="conversation-{plain.pk}"' in junk


def test_a_pushed_inbox_row_carries_its_labels(people, labels):
    ani, _budi, _citra, chat = people
    vip, _complaint = labels
    chat.labels.set([vip])
    viewer = Viewer(
        agent_id=ani.pk,
        division_id=ani.division_id,
        device_id=ani.device_id,
        language="en",
        time_zone="UTC",
    )
    html = render_conversation(viewer, conversation_id=chat.pk)
    assert f'data-label-ids=" {vip.pk} "' in html
    assert 'class="label-chip label-purple">VIP<' in html


def test_the_label_filter_works_in_the_resolved_tab(people, labels):
    ani, _budi, _citra, chat = people
    vip, _complaint = labels
    done = open_chat(ani, name="Bayu")
    other = open_chat(ani, name="Hendra")
    Conversation.objects.filter(pk__in=[done.pk, other.pk]).update(status=RESOLVED)
    done.labels.set([vip])
    chat.labels.set([vip])
    html = client_for(ani).get(
        reverse("chats:conversation_list"), {"tab": "resolved", "label": vip.pk}, headers=HX
    )
    html = html.content.decode()
    assert f'id="conversation-{done.pk}"' in html
    assert f'id="conversation-{other.pk}"' not in html
    assert f'id="conversation-{chat.pk}"' not in html  # open: in Mine, not here


def test_the_label_filter_pages_with_the_cursor(sales, labels):
    ani = agent_in(sales, name="Ani")
    vip, _complaint = labels
    tagged = [open_chat(ani) for _ in range(INBOX_PAGE + 3)]
    for chat in tagged:
        chat.labels.add(vip)
    untagged = [open_chat(ani) for _ in range(5)]
    client = client_for(ani)

    first = client.get(reverse("chats:conversation_list"), {"label": vip.pk}, headers=HX)
    html = first.content.decode()
    assert html.count('class="conversation-item') == INBOX_PAGE
    more = html.split('class="list-more" hx-get="')[1].split('"')[0].replace("&amp;", "&")
    assert f"&label={vip.pk}&cursor=" in more

    rest = client.get(more, headers=HX).content.decode()
    shown = html + rest
    assert rest.count('class="conversation-item') == 3
    assert "list-more" not in rest
    assert all(f'id="conversation-{c.pk}"' in shown for c in tagged)
    assert not any(f'id="conversation-{c.pk}"' in shown for c in untagged)


# --- New chat ----------------------------------------------------------------------------------


def test_the_new_chat_dialog_asks_for_a_number_and_an_optional_message(people):
    ani, *_ = people
    html = client_for(ani).get(reverse("chats:new_chat"), headers=HX).content.decode()
    assert '<dialog id="new-chat-dialog"' in html
    assert '<label for="new-chat-number">' in html
    assert 'type="tel" name="number"' in html and "e.g. 0812… or +62…" in html
    assert '<label for="new-chat-text">' in html
    page = client_for(ani).get(reverse("chats:new_chat")).content.decode()
    assert 'id="inbox-pane"' in page and "data-autoopen open>" in page


def test_a_new_chat_opens_assigned_to_the_agent(people):
    ani, *_ = people
    response = client_for(ani).post(
        reverse("chats:new_chat"), {"number": "0812-3456-7890", "text": ""}, headers=HX
    )
    assert response.status_code == 200
    chat = Conversation.objects.get(contact__address="6281234567890")
    assert (chat.agent_id, chat.status, chat.device_id) == (ani.pk, OPEN, ani.device_id)
    html = response.content.decode()
    assert f'data-conversation-id="{chat.pk}"' in html
    assert '<div id="dialog-slot" hx-swap-oob="true"></div>' in html
    assert response.headers["HX-Push-Url"] == reverse("chats:conversation", args=[chat.pk])
    assert triggers(response) == {"sapa:list-changed": {}}


def test_a_new_chat_with_a_first_message_queues_it(people):
    ani, *_ = people
    response = client_for(ani).post(
        reverse("chats:new_chat"), {"number": "+62 812 3456 7890", "text": "Halo Kak!"}, headers=HX
    )
    assert response.status_code == 200
    message = Message.objects.get(conversation__contact__address="6281234567890")
    assert (message.direction, message.text, message.sender_agent_id) == (
        Message.Direction.OUT,
        "Halo Kak!",
        ani.pk,
    )
    assert "Halo Kak!" in response.content.decode()


def test_without_htmx_a_new_chat_redirects_to_its_thread(people):
    ani, *_ = people
    response = client_for(ani).post(reverse("chats:new_chat"), {"number": "081234567890"})
    chat = Conversation.objects.get(contact__address="6281234567890")
    assert response.status_code == 302
    assert response.url == reverse("chats:conversation", args=[chat.pk])


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("12ab", "is not a phone number we can write to"),
        ("", "is not a phone number we can write to"),
        ("0877-0000-0001", "That is the number of your own device."),
        ("0812-9999-0009", "is already being served by Budi."),
    ],
)
def test_a_refused_new_chat_says_why_under_the_number_and_creates_nothing(people, number, reason):
    ani, budi, _citra, _chat = people
    busy = open_chat(budi, address="6281299990009")
    before = (Conversation.objects.count(), Message.objects.count())
    busy_agent = busy.agent_id

    response = client_for(ani).post(
        reverse("chats:new_chat"), {"number": number, "text": "Halo"}, headers=HX
    )

    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#new-chat-form"
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="new-chat-form"')
    assert reason in html
    assert 'aria-invalid="true"' in html.split('id="new-chat-number"')[1].split(">")[0]
    assert f'value="{number}"' in html and ">Halo</textarea>" in html
    assert (Conversation.objects.count(), Message.objects.count()) == before
    busy.refresh_from_db()
    assert busy.agent_id == busy_agent


def test_a_too_long_first_message_is_shown_under_the_message(people):
    ani, *_ = people
    too_long = "x" * (MAX_TEXT_LENGTH + 1)
    response = client_for(ani).post(
        reverse("chats:new_chat"), {"number": "081234567890", "text": too_long}, headers=HX
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'aria-invalid="true"' in html.split('id="new-chat-text"')[1].split(">")[0]
    assert not Conversation.objects.filter(contact__address="6281234567890").exists()


def test_without_htmx_a_refused_new_chat_shows_the_open_dialog(people):
    ani, *_ = people
    response = client_for(ani).post(reverse("chats:new_chat"), {"number": "12ab"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="inbox-pane"' in html and "data-autoopen open>" in html
    assert "is not a phone number we can write to" in html
