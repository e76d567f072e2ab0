"""Form and query text made storable before any view reads it (docs/SECURITY.md).

PostgreSQL refuses a NUL character in a text column and in a query parameter, so a search, a
reply, a note or a new chat with "%00" in it answered 500 there (and passed on SQLite). Django's
form fields refuse NUL, but the workspace reads several values straight from `request.GET` /
`request.POST`; cleaning both here (`devices_app.untrusted.clean_text`) covers every view at once.
Views exempt from CSRF (the gateway webhooks) read their raw body and clean it themselves, so
their POST is left unread here.
"""

from __future__ import annotations

from django.http import QueryDict

from devices_app.untrusted import clean_text

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _cleaned(values: QueryDict) -> QueryDict:
    if not any(
        "\x00" in key or any("\x00" in value for value in items) for key, items in values.lists()
    ):
        return values  # the common case: nothing to copy
    cleaned = QueryDict(mutable=True, encoding=values.encoding)
    for key, items in values.lists():
        cleaned.setlist(clean_text(key), [clean_text(value) for value in items])
    cleaned._mutable = False
    return cleaned


class UntrustedTextMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        request.GET = _cleaned(request.GET)
        if (
            request.method == "POST"
            and request.content_type in FORM_TYPES
            and not getattr(view_func, "csrf_exempt", False)
        ):
            request.POST = _cleaned(request.POST)
        return None
