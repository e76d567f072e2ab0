"""`check --deploy` names the development conveniences that expose a production desk."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from devices_app.checks import production_exposure_check


def _ids(settings, **values) -> set[str]:
    settings.ALLOWED_HOSTS = values.get("hosts", ["desk.example"])
    settings.SANDBOX_ENABLED = values.get("sandbox", False)
    settings.MEDIA_ALLOW_PRIVATE_URLS = values.get("private", False)
    return {problem.id for problem in production_exposure_check(None)}


def test_a_production_setup_raises_nothing(settings):
    assert _ids(settings) == set()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"hosts": ["*"]}, {"sapa.W003"}),
        ({"sandbox": True}, {"sapa.W004"}),
        ({"private": True}, {"sapa.W005"}),
        (
            {"hosts": ["*"], "sandbox": True, "private": True},
            {"sapa.W003", "sapa.W004", "sapa.W005"},
        ),
    ],
)
def test_each_exposure_is_named(settings, values, expected):
    assert _ids(settings, **values) == expected


def test_check_deploy_reports_them(settings, capsys):
    settings.ALLOWED_HOSTS = ["*"]
    settings.SANDBOX_ENABLED = True
    settings.MEDIA_ALLOW_PRIVATE_URLS = True
    with pytest.raises(SystemCheckError) as failed:
        call_command("check", "--deploy", "--fail-level", "WARNING")
    for check_id in ("sapa.W003", "sapa.W004", "sapa.W005"):
        assert check_id in str(failed.value)
