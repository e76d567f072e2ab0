"""The access matrix (docs/SECURITY.md, "Access matrix"): every URL the resolver knows, asked by
every role, with ids of objects that belong to someone else (and ids that exist for nobody);
every socket group, joined or not by each role, over a real channel layer (Redis).

A URL added to the project without a row here fails `test_every_url_has_a_matrix_row`.
The expected answer of each (URL, role) is written out in `expected()`; 500 is never expected.
The supervisor area has its own rows (`SUPERVISION`): everyone but staff is refused, and a
supervisor of another division gets 404 for every object of a division they do not supervise.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from agents.services import agent_create, agent_token_regenerate
from chats.models import Conversation, Message
from config.asgi import application
from realtime import publisher as realtime
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    DeviceFactory,
    DivisionFactory,
    StaffFactory,
)

ORIGIN = (b"origin", b"http://localhost")
HX = {"HX-Request": "true"}
GUESSED = 987_654_321  # an id that exists for nobody

AGENT_ROLES = ["owner", "same_division", "other_division", "other_device"]
REVOKED_ROLES = [
    "revoked_user_inactive",
    "revoked_agent_inactive",
    "revoked_agent_deleted",
    "revoked_token_regenerated",
]
ROLES = ["anonymous", *AGENT_ROLES, *REVOKED_ROLES, "staff", "superuser"]


def all_patterns(resolvers=None, prefix="", namespace=""):
    """(full route text, qualified name) of every URL pattern, admin included."""
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            qualified = f"{namespace}:{ns}".strip(":") if ns else namespace
            yield from all_patterns(entry.url_patterns, prefix + str(entry.pattern), qualified)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}".strip(":") if entry.name else None
            yield prefix + str(entry.pattern), name


# --- The world ---------------------------------------------------------------------------------


@pytest.fixture
def world(fonnte_device, sales_agents):
    """Ani owns a chat in Sales; Budi is in Sales; Dewi is in Sales on another device; Citra is in
    Support; the revoked ones were Sales agents; staff and a superuser."""
    sales = fonnte_device.division
    support = DivisionFactory(name="Support", online_only=False)
    support_device = DeviceFactory(number="6287700000009", division=support)
    other_device = DeviceFactory(number="6287700000008", division=sales)
    people = {
        "owner": sales_agents[0],
        "same_division": sales_agents[1],
        "other_division": agent_create(
            name="Citra", device=support_device, division=support, token="sapa_test-token-citra"
        ),
        "other_device": agent_create(
            name="Dewi", device=other_device, division=sales, token="sapa_test-token-dewi"
        ),
    }
    for role in REVOKED_ROLES:
        people[role] = agent_create(
            name=role.replace("_", " ").title(),
            device=fonnte_device,
            division=sales,
            token=f"sapa_test-token-{role.replace('_', '-')}",
        )
    contact = ContactFactory(device=fonnte_device, address="6282100000001", name="Rama")
    chat = ConversationFactory(
        contact=contact, agent=people["owner"].agent, status=Conversation.Status.OPEN
    )
    message = Message.objects.create(
        conversation=chat, device=fonnte_device, direction="in", text="secret order 42"
    )
    return {"people": people, "chat": chat, "message": message, "device": fonnte_device}


def client_for(role: str, world) -> Client:
    """A client as `role` sees the site; revoked roles logged in first, then lost access."""
    client = Client()
    if role == "anonymous":
        return client
    if role in ("staff", "superuser"):
        user = StaffFactory(username=role, is_superuser=role == "superuser")
        client.force_login(user)
        return client
    person = world["people"][role]
    response = client.post(
        reverse("agents:login"),
        {"device_number": person.agent.device.number, "token": person.token},
    )
    assert response.status_code == 302, role
    agent = person.agent
    if role == "revoked_user_inactive":
        agent.user.is_active = False
        agent.user.save()
    elif role == "revoked_agent_inactive":
        agent.is_active = False
        agent.save()
    elif role == "revoked_agent_deleted":
        agent.delete()
    elif role == "revoked_token_regenerated":
        agent_token_regenerate(agent=agent)
    return client


# --- URL rows ------------------------------------------------------------------------------------

# Every URL name -> (method, kind). Kinds decide the expected answer per role in `expected()`.
CONVERSATION_GET = {"chats:conversation", "chats:conversation_older", "chats:quick_reply_picker"}
# In the order the owner asks them: those that give the chat away come last.
CONVERSATION_POST = [
    "chats:conversation_read",
    "chats:conversation_labels",
    "chats:conversation_send",
    "chats:conversation_poll",
    "chats:conversation_location",
    "chats:conversation_take",
    "chats:conversation_resolve",
    "chats:conversation_reopen",
    "chats:conversation_transfer",
    "chats:conversation_hand_back",
]
MESSAGE_URLS = {"chats:message_retry": "post", "chats:attachment": "get"}
WORKSPACE_GET = {
    "chats:inbox",
    "chats:conversation_list",
    "chats:device_banners",
    "agents:preferences",
    "chats:new_chat",
}
WORKSPACE_POST = {"agents:away", "agents:mute"}
PUBLIC = {
    "home",
    "healthz",
    "favicon",
    "agents:login",
    "agents:logout",
    "set_language",
    "rotation:rotator",
    "gateway_webhook",
    "chats_media:signed",
    "chats_media:signed_named",
}
SANDBOX = {
    "sandbox:start",
    "sandbox:chat",
    "sandbox:write",
    "sandbox:file",
    "sandbox:device_connection",
    "sandbox:fonnte_send",
    "sandbox:fonnte_device",
    "sandbox:fonnte_qr",
}


# The supervisor area: name -> (method, what its argument is).
SUPERVISION = {
    "supervision:board": ("get", None),
    "supervision:conversations": ("get", None),
    "supervision:reports": ("get", None),
    "supervision:report_csv": ("get", "table"),
    "supervision:time_zone": ("post", None),
    "supervision:conversation": ("get", "conversation"),
    "supervision:transfer": ("post", "conversation"),
    "supervision:take_over": ("post", "conversation"),
    "supervision:agent_hand_back": ("post", "agent"),
    "supervision:agent_away": ("post", "agent"),
    "supervision:agent_end_sessions": ("post", "agent"),
}


def test_every_url_has_a_matrix_row():
    known = CONVERSATION_GET | set(CONVERSATION_POST) | set(MESSAGE_URLS) | WORKSPACE_GET
    known |= WORKSPACE_POST | PUBLIC | SANDBOX | set(SUPERVISION)
    missing = []
    for route, name in all_patterns():
        if route.startswith("admin/"):
            continue  # every admin URL is asked in test_admin_urls_refuse_everyone_but_staff
        if name not in known:
            missing.append((route, name))
    assert missing == [], "URLs without a row in the access matrix"


def owned_urls(world, conversation_id: int, message_id: int) -> list[tuple[str, str, dict]]:
    older = {"before": message_id}
    rows = [("get", reverse(n, args=[conversation_id]), older) for n in sorted(CONVERSATION_GET)]
    data = {"text": "hello", "label": "1", "question": "q?", "options": "a\nb"}
    rows += [("post", reverse(n, args=[conversation_id]), data) for n in CONVERSATION_POST]
    rows += [(m, reverse(n, args=[message_id]), {}) for n, m in sorted(MESSAGE_URLS.items())]
    return rows


def expected_for_object(role: str, *, exists: bool, owner_sees: bool) -> set[int]:
    """An object the role may not see answers 404 (never 403: ids leak nothing)."""
    if role == "anonymous" or role in REVOKED_ROLES:
        return {302}  # to the login page
    if role in ("staff", "superuser"):
        return {403}  # signed in, but not an agent: the workspace is not theirs
    if role == "owner" and exists and owner_sees:
        return {200, 204, 409, 422}  # allowed (a refused action explains itself: 409/422)
    return {404}


def ask(client: Client, method: str, url: str, data: dict):
    return getattr(client, method)(url, data, headers=HX)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_object_urls_answer_each_role_as_the_matrix_says(world, role):
    chat, message = world["chat"], world["message"]
    client = client_for(role, world)
    before = (Message.objects.count(), chat.status, chat.agent_id)
    seen = []
    for conversation_id, message_id, exists in [
        (chat.pk, message.pk, True),
        (GUESSED, GUESSED, False),
    ]:
        for method, url, data in owned_urls(world, conversation_id, message_id):
            code = ask(client, method, url, data).status_code
            seen.append((url, code))
            # The message is an inbound text: no file to serve and nothing to retry, so both
            # answer 404 to the owner too (for the object, not for the permission).
            owner_sees = not url.endswith(("/attachment", "/retry"))
            allowed = expected_for_object(role, exists=exists, owner_sees=owner_sees)
            assert code in allowed, (role, method, url, code)
            if code == 302 and role != "owner":
                response = ask(client, method, url, data)
                assert response["Location"].startswith(reverse("agents:login")), url
    if role != "owner":
        chat.refresh_from_db()
        assert (Message.objects.count(), chat.status, chat.agent_id) == before
    assert all(code != 500 for _, code in seen)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_workspace_urls_answer_each_role_as_the_matrix_says(world, role):
    client = client_for(role, world)
    agent = role in AGENT_ROLES
    staff = role in ("staff", "superuser")
    for name in sorted(WORKSPACE_GET):
        response = client.get(reverse(name), headers=HX)
        if agent:
            assert response.status_code == 200, (role, name)
        elif staff:
            assert response.status_code == 403, (role, name)
        else:
            assert response.status_code == 302, (role, name)
            assert response["Location"].startswith(reverse("agents:login")), (role, name)
    for name in sorted(WORKSPACE_POST):
        # GET on a POST-only action: 405 before anything else is looked at.
        assert client.get(reverse(name), headers=HX).status_code == 405, (role, name)
        # An empty POST: agents get the form's answer (400/422 for a missing field), staff a
        # 403, everyone else the login page.
        code = client.post(reverse(name), {}, headers=HX).status_code
        refused = {403} if staff else {302}
        assert code in ({200, 204, 400, 422} if agent else refused), (role, name, code)
    # The inbox never shows another agent's chat, whatever the tab or search.
    if agent and role != "owner":
        for tab in ("mine", "queue", "resolved"):
            html = client.get(reverse("chats:inbox"), {"tab": tab, "q": "secret"}).content
            assert b"Rama" not in html and b"secret order" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_public_and_sandbox_urls_answer_each_role_alike(world, role, settings):
    client = client_for(role, world)
    answers = {
        reverse("healthz"): {200, 503},
        reverse("favicon"): {302},
        reverse("agents:login"): {200, 302},
        reverse("rotation:rotator", args=["no-such-link"]): {404},
        reverse("chats_media:signed", args=["guessed"]): {404},
        reverse("chats_media:signed_named", args=["guessed", "a.jpg"]): {404},
        "/hooks/fonnte/guessed-key/message": {404, 405},
        # The sandbox is off outside development (SANDBOX_ENABLED): 404 for everyone.
        reverse("sandbox:start"): {404},
        reverse("sandbox:chat"): {404},
        reverse("sandbox:file", args=["guessed", "a.jpg"]): {404},
        reverse("sandbox:device_connection", args=[world["device"].pk]): {404},
        reverse("sandbox:device_connection", args=[GUESSED]): {404},
        reverse("sandbox:fonnte_device"): {404, 405},
    }
    assert settings.SANDBOX_ENABLED is False
    for url, allowed in answers.items():
        code = client.get(url).status_code
        assert code in allowed, (role, url, code)
    posts = ("sandbox:write", "sandbox:fonnte_send", "sandbox:fonnte_qr")
    for url in map(reverse, posts):
        assert client.post(url, {}).status_code in {403, 404}, (role, url)


def admin_urls() -> list[str]:
    """One concrete URL per admin pattern, guessed ids in the object ones."""
    urls = []
    for route, name in all_patterns():
        if not route.startswith("admin/") or name is None:
            continue
        route = route.replace("^", "").replace("$", "").replace("\\Z", "")
        if "(?P<" in route or "<" in route:
            continue  # object URLs: asked with guessed ids below
        urls.append("/" + route)
    for model in admin.site._registry:
        meta = model._meta
        for suffix in ("change", "history", "delete"):
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_{suffix}", args=[1]))
    return sorted(set(urls))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_admin_urls_refuse_everyone_but_staff(world, role):
    client = client_for(role, world)
    changelists = {
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
        for m in admin.site._registry
    }
    for url in admin_urls():
        response = client.get(url)
        assert response.status_code != 500, (role, url)
        if url == reverse("admin:logout"):
            assert response.status_code in (302, 405), (role, url)  # a GET logs no one out
        elif role in ("staff", "superuser"):
            # Every model's list: the superuser 200, staff without permissions 403.
            if url in changelists:
                want = 200 if role == "superuser" else 403
                assert response.status_code == want, (role, url, response.status_code)
        elif url != reverse("admin:login"):
            assert response.status_code == 302, (role, url, response.status_code)
            assert response["Location"].startswith(reverse("admin:login")), (role, url)
    if role in ("staff", "superuser"):
        assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.django_db
def test_ids_of_another_divisions_labels_quick_replies_and_polls_are_refused(world):
    """Objects named in a form (not the URL): another division's quick reply or saved poll, a
    label id that exists for nobody. Refused with the form's message, nothing sent or changed."""
    from chats.models import Label
    from templates_app.models import Poll, QuickReply

    support = world["people"]["other_division"].agent.division
    theirs = QuickReply.objects.create(
        shortcut="theirs", title="Support only", text="support secret", division=support
    )
    poll = Poll.objects.create(name="Support poll?", choices=["a", "b"], division=support)
    chat = world["chat"]
    client = client_for("owner", world)
    before = Message.objects.count()
    send = reverse("chats:conversation_send", args=[chat.pk])
    for value in (theirs.pk, GUESSED):
        response = client.post(send, {"quick_reply": value, "text": ""}, headers=HX)
        assert response.status_code == 422, value
    picker = client.get(reverse("chats:quick_reply_picker", args=[chat.pk]), headers=HX)
    assert picker.status_code == 200 and b"support secret" not in picker.content
    for value in (poll.pk, GUESSED):
        response = client.post(
            reverse("chats:conversation_poll", args=[chat.pk]), {"saved_poll": value}, headers=HX
        )
        assert response.status_code in (404, 422), value
    response = client.post(
        reverse("chats:conversation_labels", args=[chat.pk]), {"labels": GUESSED}, headers=HX
    )
    assert response.status_code == 422
    assert Message.objects.count() == before
    assert not chat.labels.exists() and not Label.objects.exists()


# --- Socket groups -------------------------------------------------------------------------------


def groups_of(role: str, world) -> dict[str, bool]:
    """Every group a socket can join, and whether `role` may hear it."""
    people = world["people"]
    sales = world["device"].division_id
    support = people["other_division"].agent.division_id
    joins = {
        "owner": {"agent", "sales_queue", "device"},
        "same_division": {"sales_queue", "device"},
        "other_division": set(),
        "other_device": {"sales_queue"},
    }
    owner = people["owner"].agent
    groups = {
        "agent": realtime.agent_group(owner.pk),
        "sales_queue": realtime.division_queue_group(sales),
        "support_queue": realtime.division_queue_group(support),
        "device": realtime.device_group(world["device"].pk),
        "staff": realtime.STAFF_GROUP,
    }
    may = joins.get(role, set())
    if role == "other_division":
        may = {"support_queue"}
    if role in ("staff", "superuser"):
        may = {"staff"}
    return {group: key in may for key, group in groups.items()}


async def open_socket(client: Client, path: str):
    cookie = client.cookies.get("sessionid")
    headers = [ORIGIN]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie.value}".encode()))
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await socket.connect(timeout=10)
    return socket, connected, code


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES)
async def test_sockets_join_only_the_groups_the_role_may_hear(world, role):
    client = await sync_to_async(client_for)(role, world)
    path = "/ws/staff/" if role in ("staff", "superuser") else "/ws/agent/"
    socket, connected, _ = await open_socket(client, path)
    if role == "anonymous" or role in REVOKED_ROLES:
        # Refused at the handshake or closed with 4401/4403 right after it.
        if connected:
            output = await socket.receive_output(timeout=5)
            assert output["type"] == "websocket.close", output
            assert output.get("code") in (4401, 4403), output
        return
    assert connected
    layer = get_channel_layer()
    for group, may_hear in groups_of(role, world).items():
        # A probe event the consumer passes straight on ("session.regroup" closes the socket
        # with 1012): it proves membership without rendering anything.
        await layer.group_send(group, {"type": "session.regroup"})
        if may_hear:
            output = await socket.receive_output(timeout=5)
            assert output == {"type": "websocket.close", "code": 1012}, (role, group)
            await socket.disconnect()
            socket, connected, _ = await open_socket(client, path)
            assert connected
        else:
            assert await socket.receive_nothing(timeout=0.3), (role, group)
    await socket.disconnect()


# --- The supervisor area -------------------------------------------------------------------------


def supervision_urls(*, conversation_id: int, agent_id: int) -> list[tuple[str, str]]:
    ids = {"conversation": [conversation_id], "agent": [agent_id], "table": ["agents"], None: []}
    return [
        (method, reverse(name, args=ids[argument]))
        for name, (method, argument) in SUPERVISION.items()
    ]


@pytest.mark.parametrize("role", ["anonymous", *AGENT_ROLES, *REVOKED_ROLES])
def test_supervision_urls_refuse_everyone_but_staff(world, role):
    chat = world["chat"]
    client = client_for(role, world)
    owner_id = world["people"]["owner"].agent.pk
    for method, url in supervision_urls(conversation_id=chat.pk, agent_id=owner_id):
        response = getattr(client, method)(url, {"to_division": chat.division_id})
        if role == "anonymous" or role in REVOKED_ROLES:
            assert response.status_code == 302, (role, url)
            assert response["Location"].startswith(reverse("admin:login")), (role, url)
        else:
            assert response.status_code == 403, (role, url)
    chat.refresh_from_db()
    assert (chat.status, chat.agent_id) == (Conversation.Status.OPEN, owner_id)


def test_a_supervisor_of_another_division_finds_nothing_of_this_one(world):
    from supervision.models import SupervisorScope

    chat = world["chat"]
    support = world["people"]["other_division"].agent.division
    user = StaffFactory(username="support-lead")
    scope = SupervisorScope.objects.create(user=user, all_divisions=False)
    scope.divisions.set([support])
    client = Client()
    client.force_login(user)
    owner_id = world["people"]["owner"].agent.pk
    for guessed in (False, True):
        ids = (GUESSED, GUESSED) if guessed else (chat.pk, owner_id)
        for method, url in supervision_urls(conversation_id=ids[0], agent_id=ids[1]):
            if f"/{ids[0]}" not in url and f"/{ids[1]}/" not in url:
                continue  # the lists and reports are scoped: asked below
            response = getattr(client, method)(url, {"to_division": support.pk})
            assert response.status_code == 404, url
    chat.refresh_from_db()
    assert (chat.status, chat.agent_id) == (Conversation.Status.OPEN, owner_id)
    listing = client.get(reverse("supervision:conversations"))
    assert listing.status_code == 200 and b"Rama" not in listing.content
    csv = b"".join(client.get(reverse("supervision:report_csv", args=["agents"])).streaming_content)
    assert b"Ani" not in csv


def test_the_superuser_gets_404_for_guessed_supervision_ids(world):
    client = client_for("superuser", world)
    for method, url in supervision_urls(conversation_id=GUESSED, agent_id=GUESSED):
        if str(GUESSED) in url:
            response = getattr(client, method)(url, {"to_division": 1})
            assert response.status_code == 404, url
