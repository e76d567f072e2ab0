"""One place that reads the environment (HackSoft's config/env.py)."""

from __future__ import annotations

import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def dev_secret_key() -> str:
    """A per-checkout secret for development, generated once into an ignored file.

    `make run` calls this before honcho starts its processes, so they never race to create it.
    """
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()
