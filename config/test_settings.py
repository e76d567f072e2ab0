"""Settings for the test suite: the production settings with what tests cannot have."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-not-secret")
# A fixed Fernet key for tests only (also passed to the processes browser tests start).
os.environ.setdefault("GATEWAY_CREDENTIALS_KEYS", "dGVzdHMtb25seS1ub3Qtc2VjcmV0LWZlcm5ldC1rZXk=")

from .settings import *  # noqa: E402, F403
from .settings import STORAGES  # noqa: E402

# Tests render templates without running collectstatic first.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Health tests start and stop workers between requests: ask Celery every time.
HEALTH_CELERY_REMEMBER_SECONDS = 0
