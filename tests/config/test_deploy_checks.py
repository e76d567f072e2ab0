from __future__ import annotations

import pytest

from devices_app.checks import public_base_url_check


def ids(settings, url: str) -> set[str]:
    settings.PUBLIC_BASE_URL = url
    return {problem.id for problem in public_base_url_check(None)}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://desk.example.com", set()),
        ("http://desk.example.com", {"sapa.W001"}),
        ("https://localhost:8443", {"sapa.W002"}),
        ("http://127.0.0.1:8000", {"sapa.W001", "sapa.W002"}),
    ],
)
def test_public_base_url_is_checked_for_deployment(settings, url, expected):
    assert ids(settings, url) == expected
