"""Settings are read in a fresh process per case: they are fixed at import time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

PROBE = """
import json
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "debug": s.DEBUG, "secret": s.SECRET_KEY, "hosts": s.ALLOWED_HOSTS, "tz": s.TIME_ZONE,
    "engine": db["ENGINE"], "db_options": db.get("OPTIONS", {}),
    "conn_max_age": db.get("CONN_MAX_AGE"),
    "broker": s.CELERY_BROKER_URL, "cache": s.CACHES["default"]["LOCATION"],
    "layer": s.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0],
    "public": s.PUBLIC_BASE_URL, "sandbox": s.SANDBOX_ENABLED,
}, default=str))
"""

BASE_ENV_DROPPED = {
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_ALLOWED_HOSTS",
    "PUBLIC_BASE_URL",
    "TIME_ZONE",
    "SANDBOX_ENABLED",
}


def read_settings(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in BASE_ENV_DROPPED}
    clean["DJANGO_SETTINGS_MODULE"] = "config.settings"
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=django_settings.BASE_DIR,
    )


def parsed(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_env_vars_production_refuses_to_start_without_a_secret(tmp_path):
    result = read_settings(tmp_path)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off" in result.stderr


def test_development_defaults(tmp_path):
    values = parsed(read_settings(tmp_path, DJANGO_DEBUG="true"))
    assert values["debug"] is True
    assert len(values["secret"]) >= 50  # generated once into the ignored .secret_key file
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["db_options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in values["db_options"]["init_command"]
    assert values["db_options"]["timeout"] >= 5
    assert values["tz"] == "Asia/Jakarta"
    assert (
        values["broker"]
        == values["cache"]
        == values["layer"]["address"]
        == "redis://127.0.0.1:6379/0"
    )
    assert values["layer"]["max_connections"] > 100
    assert values["sandbox"] is True


def test_dev_secret_is_stable_across_processes(tmp_path):
    first = parsed(read_settings(tmp_path, DJANGO_DEBUG="true"))["secret"]
    second = parsed(read_settings(tmp_path, DJANGO_DEBUG="true"))["secret"]
    assert first == second


def test_production_settings_from_env(tmp_path):
    values = parsed(
        read_settings(
            tmp_path,
            DJANGO_SECRET_KEY="s" * 60,
            DATABASE_URL="postgres://u:p@db.internal:5432/sapa",
            REDIS_URL="redis://cache.internal:6380/2",
            DJANGO_ALLOWED_HOSTS="desk.example.com,desk2.example.com",
            PUBLIC_BASE_URL="https://desk.example.com/",
            TIME_ZONE="Asia/Makassar",
        )
    )
    assert values["debug"] is False
    assert values["secret"] == "s" * 60
    assert values["hosts"] == ["desk.example.com", "desk2.example.com"]
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["conn_max_age"] == 0
    assert "pool" in values["db_options"]
    assert (
        values["broker"]
        == values["cache"]
        == values["layer"]["address"]
        == "redis://cache.internal:6380/2"
    )
    assert values["public"] == "https://desk.example.com"
    assert values["tz"] == "Asia/Makassar"
    assert values["sandbox"] is False


@pytest.mark.parametrize("flag", ["false", "0", "off"])
def test_debug_off_spellings(tmp_path, flag):
    values = parsed(read_settings(tmp_path, DJANGO_DEBUG=flag, DJANGO_SECRET_KEY="k" * 60))
    assert values["debug"] is False
