"""Media helpers: safe names, URL safety, content sniffing, private serving, signed links.

Nothing here writes to the database (the writes are in `chats.services.media`).

Serving rules (docs/ARCHITECTURE.md "Who sees what"): MEDIA_ROOT is never served as a directory.
- A stored attachment reaches a browser only through `attachment_response`, called by a view
  that first checked the user may see the conversation (the UI's selector), e.g.::

      @require_safe
      @login_required
      def message_attachment(request, message_id):
          message = get_object_or_404(message_get_for_user(user=request.user, id=message_id))
          return attachment_response(message=message)

- An outgoing upload reaches the gateway through `outgoing_file_signed_url`: an absolute,
  expiring, tamper-proof link served by `chats.media_views.signed_media` without login (the
  gateway has no session). Only names under `SIGNABLE_PREFIXES` are ever signed or served.
"""

from __future__ import annotations

import ipaddress
import mimetypes
import posixpath
import re
import socket
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from devices_app.gateways.base import Capabilities

    from .models import Message

# Raster types a browser shows without running code: previewed inline (the attachment view
# serves them inline only when their bytes prove it).
PREVIEW_IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "webp"})


OUTGOING_PREFIX = "outgoing/"
# Storage names that may be handed to the gateway through a signed link: agent uploads and the
# files of quick-reply templates. Incoming customer attachments are never signed.
SIGNABLE_PREFIXES = (OUTGOING_PREFIX, "quick-replies/")
SIGNED_MEDIA_SALT = "sapa.chats.media.signed"

MAX_NAME_LENGTH = 60
SNIFF_BYTES = 16


# --- Names --------------------------------------------------------------------------------------


def safe_file_name(name: str, *, extension: str = "", default: str = "attachment") -> str:
    """A storage-safe file name from an untrusted one: no directories, no control characters,
    no leading dots, at most MAX_NAME_LENGTH characters, ending in `extension` when given."""
    ext = re.sub(r"[^a-z0-9]", "", extension.lower().lstrip("."))[:10]
    base = unicodedata.normalize("NFKC", name or "").replace("\\", "/").split("/")[-1]
    base = re.sub(r"\s", " ", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    try:
        base = get_valid_filename(base) if base else ""
    except SuspiciousFileOperation:
        base = ""
    stem, dot, current_ext = base.rpartition(".")
    if not dot:
        stem, current_ext = base, ""
    if ext and current_ext.lower() != ext:
        # Keep a foreign extension inside the stem ("report.final" + pdf → report.final.pdf).
        stem, current_ext = base, ext
    stem = stem.strip("._") or default
    current_ext = current_ext.lower()
    room = MAX_NAME_LENGTH - (len(current_ext) + 1 if current_ext else 0)
    stem = stem[:room]
    return f"{stem}.{current_ext}" if current_ext else stem


def display_file_name(name: str) -> str:
    """The original name for a Content-Disposition header: no path, no control characters."""
    base = (name or "").replace("\\", "/").split("/")[-1]
    return "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()


def extension_of(name: str) -> str:
    return PurePosixPath(name).suffix.lower().lstrip(".")


# --- Content ----------------------------------------------------------------------------------


def sniff_image_type(head: bytes) -> str:
    """The image content type proven by the first bytes, or "" (so HTML/SVG named .png is not
    shown inline). Only raster formats browsers render without running code."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return ""


def content_type_for(*, name: str, head: bytes) -> str:
    """Sniffed image type, else the type guessed from the name; an image name whose bytes are
    not an image becomes application/octet-stream."""
    sniffed = sniff_image_type(head)
    if sniffed:
        return sniffed
    guessed, _encoding = mimetypes.guess_type(name, strict=False)
    if not guessed or guessed.startswith("image/"):
        return "application/octet-stream"
    return guessed


# --- URLs ---------------------------------------------------------------------------------------


class UnsafeURL(Exception):
    """The URL may not be fetched. `code` is "invalid_url" or "blocked_address"."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


# IPv6 prefixes that carry an IPv4 address a gateway or router forwards to: NAT64 (RFC 6052;
# `64:ff9b::7f00:1` reaches 127.0.0.1 through a NAT64 gateway) and IPv4-compatible addresses.
# Python counts both as global, so the IPv4 inside is what is checked. The NAT64 local-use
# prefix (RFC 8215) may translate to anything on the operator's network: never public.
_IPV6_EMBEDDING_IPV4 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::/96"))
_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")


def _address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL_USE:
            return False
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        elif ip.sixtofour:
            ip = ip.sixtofour
        elif any(ip in network for network in _IPV6_EMBEDDING_IPV4):
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast


def url_check_fetchable(url: str, *, allow_private: bool | None = None) -> None:
    """Raise UnsafeURL unless `url` is http(s) with a host that resolves only to public
    addresses (private ones allowed when MEDIA_ALLOW_PRIVATE_URLS is on).

    Raises socket.gaierror when the name does not resolve (the caller decides if that is
    temporary). The check resolves the name itself; the HTTP client resolves it again, so a
    DNS answer that changes between the two is not caught (see the report).
    """
    if allow_private is None:
        allow_private = settings.MEDIA_ALLOW_PRIVATE_URLS
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL("invalid_url", str(exc)) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("invalid_url", "only http and https links with a host")
    if allow_private:
        return
    infos = socket.getaddrinfo(parts.hostname, port or 443, type=socket.SOCK_STREAM)
    for info in infos:
        if not _address_is_public(info[4][0]):
            raise UnsafeURL("blocked_address", parts.hostname)


# --- Outgoing uploads: validation -------------------------------------------------------------


def attachment_limits(limits: Capabilities | None = None) -> Capabilities:
    """The gateway limits an attachment is checked against: the device's gateway's when known,
    else those every file-sending gateway accepts (docs/ARCHITECTURE.md "Capabilities")."""
    if limits is not None:
        return limits
    from devices_app.gateways import registry

    return registry.common_limits()


def outgoing_attachment_validate(
    *,
    uploaded_file: UploadedFile | None = None,
    url: str | None = None,
    limits: Capabilities | None = None,
) -> str:
    """Check an attachment an agent wants to send against the gateway's limits (`limits`, a
    gateway's capabilities; by default those every file-sending gateway accepts).

    Exactly one of `uploaded_file` / `url`. An upload must be at most the gateway's upload size
    (Fonnte: 4 MB) with a supported extension (an image extension must hold an image); a URL
    must be http(s), not point to a private network, and, when its path has an extension, a
    supported one. Returns the file name to show the recipient. Raises ValidationError with a
    clear message.
    """
    if (uploaded_file is None) == (not url):
        raise ValidationError(_("Attach either a file or a link, not both."), code="one_source")
    limits = attachment_limits(limits)
    allowed = ", ".join(sorted(limits.file_extensions))
    if uploaded_file is not None:
        name = display_file_name(uploaded_file.name or "")
        ext = extension_of(name)
        if ext not in limits.file_extensions:
            raise ValidationError(
                _("WhatsApp gateways accept only these file types: %(allowed)s.")
                % {"allowed": allowed},
                code="extension",
            )
        if uploaded_file.size is None or uploaded_file.size > limits.max_upload_bytes:
            raise ValidationError(
                _("The file is larger than %(size)s, the gateway's limit for uploads.")
                # Decimal megabytes, as the gateway counts them ("file size must under 4MB").
                % {"size": f"{limits.max_upload_bytes / 1_000_000:g} MB"},
                code="too_large",
            )
        if uploaded_file.size == 0:
            raise ValidationError(_("The file is empty."), code="empty")
        if ext in limits.image_extensions:
            uploaded_file.seek(0)
            head = uploaded_file.read(SNIFF_BYTES)
            uploaded_file.seek(0)
            if not sniff_image_type(head):
                raise ValidationError(
                    _("The file is named like an image but is not a PNG or JPEG image."),
                    code="not_image",
                )
        return name

    url = url.strip()
    try:
        url_check_fetchable(url)
    except UnsafeURL as exc:
        if exc.code == "blocked_address":
            raise ValidationError(
                _("The link points to a private network; the gateway cannot fetch it."),
                code="private_url",
            ) from exc
        raise ValidationError(
            _("Give a link that starts with http:// or https://."), code="invalid_url"
        ) from exc
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationError(
            _("The link's server name does not exist."), code="unknown_host"
        ) from exc
    name = display_file_name(unquote(posixpath.basename(urlsplit(url).path)))
    ext = extension_of(name)
    if ext and ext not in limits.file_extensions:
        raise ValidationError(
            _("WhatsApp gateways accept only these file types: %(allowed)s.")
            % {"allowed": allowed},
            code="extension",
        )
    return name


# --- Signed links for the gateway ------------------------------------------------------------


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SIGNED_MEDIA_SALT)


def _signable(stored_name: str) -> bool:
    normalized = posixpath.normpath(stored_name)
    return (
        normalized == stored_name
        and not normalized.startswith(("/", "../"))
        and normalized.startswith(SIGNABLE_PREFIXES)
    )


def outgoing_file_signed_url(*, stored_name: str) -> str:
    """An absolute link (PUBLIC_BASE_URL) the gateway can fetch `stored_name` from, valid for
    SIGNED_MEDIA_MAX_AGE seconds. The link ends in the file's name, as gateways may look at the
    extension. Raises ValueError for names outside SIGNABLE_PREFIXES."""
    if not _signable(stored_name):
        raise ValueError(f"not a signable media name: {stored_name!r}")
    signature = _signer().sign_object(stored_name, compress=False)
    path = reverse(
        "chats_media:signed_named",
        kwargs={"signature": signature, "filename": posixpath.basename(stored_name)},
    )
    return f"{settings.PUBLIC_BASE_URL}{path}"


@dataclass(frozen=True)
class SignedFile:
    stored_name: str

    @property
    def file_name(self) -> str:
        return posixpath.basename(self.stored_name)


def outgoing_file_from_signature(*, signature: str, max_age: int | None = None) -> SignedFile:
    """The file a signature from `outgoing_file_signed_url` names.

    Raises Http404 when the signature is tampered with, expired (older than `max_age`,
    default SIGNED_MEDIA_MAX_AGE seconds), names something outside SIGNABLE_PREFIXES or the file
    is gone.
    """
    if max_age is None:
        max_age = settings.SIGNED_MEDIA_MAX_AGE
    try:
        stored_name = _signer().unsign_object(signature, max_age=max_age)
    except signing.BadSignature as exc:  # SignatureExpired is a BadSignature
        raise Http404("invalid or expired link") from exc
    if not isinstance(stored_name, str) or not _signable(stored_name):
        raise Http404("invalid link")
    if not default_storage.exists(stored_name):
        raise Http404("file no longer stored")
    return SignedFile(stored_name=stored_name)


# --- Serving ----------------------------------------------------------------------------------


def _file_response(*, stored_name: str, display_name: str) -> FileResponse:
    try:
        handle = default_storage.open(stored_name, "rb")
    except FileNotFoundError as exc:
        raise Http404("file no longer stored") from exc
    head = handle.read(SNIFF_BYTES)
    handle.seek(0)
    content_type = content_type_for(name=display_name or stored_name, head=head)
    inline = content_type.startswith("image/")
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=display_name or posixpath.basename(stored_name),
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Customer-supplied bytes: even if a browser renders them, they get no script and no origin.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def attachment_response(*, message: Message) -> FileResponse:
    """Serve a message's stored attachment. The caller MUST have checked that the user may see
    `message.conversation` (this function checks nothing about the user).

    Content type from the bytes for images (shown inline: PNG, JPEG, GIF, WebP), else from the
    name; every other file is a download (`Content-Disposition: attachment`) with the original
    name. Raises Http404 when nothing is stored (never copied, unavailable, or deleted by
    retention) or the file is missing.
    """
    if not message.attachment_file:
        raise Http404("no stored attachment")
    stored_name = message.attachment_file.name
    display_name = display_file_name(message.attachment_name) or posixpath.basename(stored_name)
    if not extension_of(display_name) and extension_of(stored_name):
        # Fonnte may give the name and the extension separately ("photo" + "jpg").
        display_name = f"{display_name}.{extension_of(stored_name)}"
    return _file_response(stored_name=stored_name, display_name=display_name)


def signed_file_response(*, signed: SignedFile) -> FileResponse:
    return _file_response(stored_name=signed.stored_name, display_name=signed.file_name)
