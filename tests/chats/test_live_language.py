from __future__ import annotations

from chats.live import language_from_scope


def test_language_cookie_wins():
    scope = {
        "cookies": {"django_language": "id"},
        "headers": [(b"accept-language", b"en-US,en;q=0.9")],
    }
    assert language_from_scope(scope) == "id"


def test_accept_language_when_no_cookie():
    assert language_from_scope({"headers": [(b"accept-language", b"id-ID,id;q=0.9")]}) == "id"


def test_unsupported_languages_fall_back_to_the_default():
    scope = {"cookies": {"django_language": "xx"}, "headers": [(b"accept-language", b"fr-FR")]}
    assert language_from_scope(scope) == "en"
