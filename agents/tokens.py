"""Agent tokens: random secrets shown once; the database keeps only their SHA-256."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "sapa_"


def token_generate() -> str:
    # 24 random bytes = 192 bits; the prefix lets secret scanners recognise a leaked token.
    return TOKEN_PREFIX + secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()
