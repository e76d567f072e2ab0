"""Gateway credentials encrypted at rest (docs/ARCHITECTURE.md "Gateway credentials").

`EncryptedTextField` stores `enc1:<Fernet token>`; the keys come from the environment
(`GATEWAY_CREDENTIALS_KEYS`, newest first, so a key can be rotated: old values still decrypt and
are re-encrypted with the newest key when next saved). A database dump holds no credential in
clear. Values are non-deterministic, so a credential can be compared only after reading the row,
never filtered on in SQL.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "enc1:"


def key_from_secret(secret: str) -> bytes:
    """A Fernet key derived from another secret (the development default)."""
    digest = hashlib.sha256(f"sapa-gateway-credentials:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "GATEWAY_CREDENTIALS_KEYS must hold Fernet keys (44 URL-safe base64 characters); "
            "make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.GATEWAY_CREDENTIALS_KEYS))


def encrypt(value: str) -> str:
    if not value:
        return ""
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    """The clear value. A value without the prefix is one written before encryption (the data
    migration 0004 encrypts those) and is returned as it is."""
    if not stored or not stored.startswith(PREFIX):
        return stored or ""
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A gateway credential cannot be decrypted with GATEWAY_CREDENTIALS_KEYS: the key it "
            "was written with is missing (keep old keys after the new one when rotating)."
        ) from exc


class EncryptedTextField(models.TextField):
    """A text column whose value is encrypted before it reaches the database."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value is not None else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return encrypt(str(value))
