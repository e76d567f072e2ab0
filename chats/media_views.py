"""The public endpoint the gateway fetches outgoing uploads from (a signed, expiring link).

No login: the gateway has no session. The signature is the authorisation; anything wrong with
it (tampered, expired, unknown file) is a plain 404 that reveals nothing.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from .media import outgoing_file_from_signature, signed_file_response


@require_safe
def signed_media(request: HttpRequest, signature: str, filename: str = "") -> FileResponse:
    signed = outgoing_file_from_signature(signature=signature)
    # The trailing name is cosmetic (gateways may look at the extension) but must match, so a
    # link cannot be dressed up as another file type.
    if filename and filename != signed.file_name:
        raise Http404("name does not match")
    return signed_file_response(signed=signed)
