"""Shared hypothesis strategies for the fuzz tests (docs/RELIABILITY.md "Fuzzing"): hostile
text, numbers and nested values, fixture bodies with fields replaced by them, and a snapshot of
every row a webhook or a workspace form may change, to prove a refusal changed nothing."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FIXTURES = Path(__file__).parent / "fixtures"

# Every fuzz test: modest, no deadline (two shared cores), and the function-scoped `client` and
# database fixtures are meant to be shared by the examples (each example adds to the same DB).
FUZZ = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Every code point, lone surrogates and NUL included.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
NASTY_TEXT = st.one_of(
    ANY_TEXT,
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "\ud800",
            "x\udfffy",
            "NaN,1",
            "Infinity,-1",
            "1e999,2",
            "javascript:alert(1)",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "%00",
            "-1",
            "0",
            str(2**63),
            str(2**64),
            "9" * 400,
        ]
    ),
    st.text("0123456789", min_size=60, max_size=90),
    st.text("ab\x00", min_size=300, max_size=600),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([2**63 - 1, 2**63, 2**64, -(2**63) - 1]),
)
SCALARS = st.one_of(NASTY_TEXT, NUMBERS, st.booleans(), st.none())
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(NASTY_TEXT, inner, max_size=3)
    ),
    max_leaves=6,
)
# Nesting deep enough to reach a parser's recursion limits.
DEEP = st.integers(min_value=50, max_value=1500).map(lambda depth: "[" * depth + "]" * depth)


def dumps(value) -> bytes:
    """JSON as a careless or hostile sender writes it: NaN allowed, surrogates escaped."""
    return json.dumps(value, allow_nan=True).encode("utf-8")


def fixture_bodies(directory: str) -> dict[str, dict]:
    return {
        path.stem: json.loads(path.read_text())
        for path in sorted((FIXTURES / directory).glob("*.json"))
    }


def _paths(value, prefix=()) -> list[tuple]:
    """Every place in a body a value sits (dict keys and list indexes), containers included."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


def _replaced(body, path: tuple, new):
    body = copy.deepcopy(body)
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return body


@st.composite
def mutated(draw, bodies: dict[str, dict]):
    """A structurally valid body (a captured fixture) with one to three fields replaced by a
    hostile value of any type, or one hostile key added."""
    body = draw(st.sampled_from(sorted(bodies)).map(lambda name: bodies[name]))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(body)
        if paths and draw(st.booleans()):
            body = _replaced(body, draw(st.sampled_from(paths)), draw(VALUES))
        elif isinstance(body, dict):
            body = {**body, draw(NASTY_TEXT): draw(VALUES)}
    return body


def raw_bodies(bodies: dict[str, dict]):
    """What a webhook URL may receive, as (content type, raw bytes)."""
    as_json = st.one_of(
        mutated(bodies),
        st.dictionaries(NASTY_TEXT, VALUES, max_size=5),
        VALUES,
    ).map(lambda body: ("application/json", dumps(body)))
    deep = st.tuples(mutated(bodies), DEEP).map(
        lambda pair: (
            ("application/json", dumps(pair[0])[:-1] + b', "x": ' + pair[1].encode() + b"}")
            if dumps(pair[0]).endswith(b"}")
            else ("application/json", pair[1].encode())
        )
    )
    form = st.dictionaries(NASTY_TEXT, NASTY_TEXT, max_size=5).map(
        lambda fields: (
            "application/x-www-form-urlencoded",
            "&".join(f"{_quote(k)}={_quote(v)}" for k, v in fields.items()).encode(),
        )
    )
    garbage = st.binary(max_size=200).map(lambda raw: ("application/json", raw))
    return st.one_of(as_json, as_json, as_json, deep, form, garbage)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def rows() -> tuple:
    """Every row a webhook or an agent's form may change (a refusal must change none)."""
    from agents.models import Agent
    from chats.models import Contact, Conversation, EarlyStatusUpdate, Label, Message
    from devices_app.models import Device, SandboxMessage, UnparsedWebhook
    from rotation.models import AssignmentLog, RotationState

    models = (
        Contact,
        Conversation,
        Message,
        EarlyStatusUpdate,
        Label,
        Device,
        SandboxMessage,
        UnparsedWebhook,
        Agent,
        AssignmentLog,
        RotationState,
    )
    return tuple(list(model.objects.order_by("pk").values()) for model in models)


class Tally(Counter):
    """Requests tried and how they were answered, printed at the end of a module."""

    def answered(self, status: int) -> None:
        self["tried"] += 1
        self[f"{status // 100}xx"] += 1

    def line(self, what: str) -> str:
        return (
            f"\n{what}: {self['tried']} tried, {self['2xx']} 2xx, {self['3xx']} 3xx, "
            f"{self['4xx']} 4xx refused, {self['5xx']} 5xx; {self['stored']} stored a row"
        )
