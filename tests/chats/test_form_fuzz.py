"""Property: every agent-facing form field and query parameter of the workspace (search `q`,
`label`, `tab`, cursors, ids in URLs, reply/note/new-chat/transfer/labels/poll/location fields,
login fields, preferences) given hostile text — NUL, lone surrogates, overlong text, huge
numbers, markup — is answered without a 5xx; a refusal (4xx) changes no row. On SQLite and
PostgreSQL; docs/RELIABILITY.md "Fuzzing" quotes the counts it prints. Strategies:
tests/hostile.py."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from chats.models import Conversation
from tests.factories import ContactFactory, ConversationFactory
from tests.hostile import FUZZ, NASTY_TEXT, Tally, rows

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
FORM = "application/x-www-form-urlencoded"
# An id as a page or a guesser puts it in a URL: small, real-looking, or past every column.
URL_IDS = st.one_of(
    st.integers(min_value=0, max_value=10**4),
    st.sampled_from([2**31, 2**63 - 1, 2**63, 2**64, 10**30]),
    st.integers(min_value=0, max_value=10**40),
)
TEXT = st.one_of(NASTY_TEXT, st.sampled_from(["", " ", "mine", "reply", "note", "1", "single"]))

# (name, method, url name, whether the url takes the chat's id, fields)
FORMS = [
    ("inbox", "get", "chats:inbox", False, ["q", "tab", "label"]),
    ("list", "get", "chats:conversation_list", False, ["q", "tab", "label", "cursor"]),
    ("older", "get", "chats:conversation_older", True, ["before"]),
    ("quick replies", "get", "chats:quick_reply_picker", True, ["q"]),
    ("thread", "get", "chats:conversation", True, []),
    ("reply", "post", "chats:conversation_send", True, ["text", "quoted", "quick_reply"]),
    (
        "note or attachment",
        "post",
        "chats:conversation_send",
        True,
        ["text", "mode", "attachment_url", "quick_reply"],
    ),
    ("new chat", "post", "chats:new_chat", False, ["number", "text", "name"]),
    ("transfer", "post", "chats:conversation_transfer", True, ["target", "note"]),
    ("labels", "post", "chats:conversation_labels", True, ["labels", "labels"]),
    ("poll", "post", "chats:conversation_poll", True, ["question", "choices", "select"]),
    ("saved poll", "post", "chats:conversation_poll", True, ["saved_poll"]),
    ("location", "post", "chats:conversation_location", True, ["latitude", "longitude"]),
    ("take", "post", "chats:conversation_take", True, []),
    ("resolve", "post", "chats:conversation_resolve", True, []),
    ("read", "post", "chats:conversation_read", True, []),
    ("preferences", "post", "agents:preferences", False, ["time_zone"]),
    ("away", "post", "agents:away", False, ["away"]),
    ("mute", "post", "agents:mute", False, ["muted"]),
]

TALLY = Tally()


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print(TALLY.line("workspace form and query fuzz"))


@pytest.fixture
def ani(sales_agents):
    return sales_agents[0]


@pytest.fixture
def agent_client(ani) -> Client:
    client = Client(raise_request_exception=False)
    response = client.post(
        reverse("agents:login"),
        {"device_number": ani.agent.device.number, "token": ani.token},
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def mine(fonnte_device, ani) -> Conversation:
    contact = ContactFactory(device=fonnte_device, address="6282100000001", name="Rama")
    return ConversationFactory(contact=contact, agent=ani.agent, status=Conversation.Status.OPEN)


def _answered(response, before) -> None:
    TALLY.answered(response.status_code)
    assert response.status_code < 500, response.status_code
    if response.status_code >= 400:
        assert rows() == before
    elif rows() != before:
        TALLY["stored"] += 1


def _fields(names: list[str]):
    return st.lists(st.tuples(st.sampled_from(names), TEXT), max_size=6) if names else st.just([])


@pytest.mark.parametrize(
    ("name", "method", "url_name", "chat", "fields"), FORMS, ids=[f[0] for f in FORMS]
)
def test_hostile_form_or_query_is_answered_never_5xx(
    agent_client, mine, name, method, url_name, chat, fields
):
    @FUZZ
    @given(data=_fields(fields), chat_id=st.one_of(st.just(mine.pk), URL_IDS), hx=st.booleans())
    def property_holds(data, chat_id, hx):
        url = reverse(url_name, args=[chat_id] if chat else [])
        encoded = _encoded(data)  # as a browser sends it: bytes, percent-encoded
        headers = HX if hx else {}
        before = rows()
        if method == "get":
            response = agent_client.get(f"{url}?{encoded}", headers=headers)
        else:
            response = agent_client.post(url, encoded, content_type=FORM, headers=headers)
        _answered(response, before)

    property_holds()


def test_hostile_login_is_answered_never_5xx(fonnte_device):
    client = Client(raise_request_exception=False)

    @FUZZ
    @given(
        data=_fields(["device_number", "token", "next"]),
        next_param=TEXT,
        post=st.booleans(),
    )
    def property_holds(data, next_param, post):
        url = reverse("agents:login") + "?" + "next=" + _quote(next_param)
        before = rows()
        if post:
            response = client.post(url, _encoded(data), content_type=FORM)
        else:
            response = client.get(f"{url}&{_encoded(data)}")
        _answered(response, before)
        if post:
            assert response.status_code != 302 or "_auth_user_id" not in client.session

    property_holds()


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _encoded(data: list[tuple[str, str]]) -> str:
    return "&".join(f"{_quote(field)}={_quote(value)}" for field, value in data)
