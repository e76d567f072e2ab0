"""The time zones an agent may choose, and the check every write goes through.

Zone names are validated against the system's tz database (`zoneinfo`) rather than stored as
model choices: the database grows with tzdata releases, which must not mean new migrations.
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Indonesia's three zones come first in every list: WIB, WITA, WIT.
INDONESIA = [
    ("Asia/Jakarta", _("Western Indonesia (WIB) · Asia/Jakarta")),
    ("Asia/Makassar", _("Central Indonesia (WITA) · Asia/Makassar")),
    ("Asia/Jayapura", _("Eastern Indonesia (WIT) · Asia/Jayapura")),
]

# Region/City names only: the tz database also carries aliases ("Japan", "EST5EDT",
# "localtime") that read badly in a list and add nothing.
_AREAS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)


def default_time_zone() -> str:
    return settings.TIME_ZONE


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    names = {name for name in zoneinfo.available_timezones() if name.startswith(_AREAS)}
    return frozenset(names | {"UTC", settings.TIME_ZONE})


def _indonesia() -> tuple[str, list[tuple[str, str]]]:
    return (
        _("Indonesia"),
        [(name, label) for name, label in INDONESIA if name in time_zone_names()],
    )


def time_zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices for a select: Indonesia first, then every other zone by name (each value
    once, so a select marks one option as chosen)."""
    others = [
        (name, name.replace("_", " ")) for name in sorted(time_zone_names() - set(dict(INDONESIA)))
    ]
    return [_indonesia(), (_("All time zones"), others)]


def time_zone_choices_short(*, current: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Indonesia's zones, and `current` when it is another one."""
    groups = [_indonesia()]
    if current and current not in dict(INDONESIA):
        groups.append((_("Your time zone"), [(current, current.replace("_", " "))]))
    return groups


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            _("“%(value)s” is not a time zone. Choose one from the list, e.g. Asia/Jakarta."),
            code="invalid_time_zone",
            params={"value": value},
        )


def agent_time_zone(agent) -> str:
    """The zone to render the agent's pages in: theirs when this server's tz database knows it
    (it may have lost a name after an upgrade), else the desk's."""
    try:
        zoneinfo.ZoneInfo(agent.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return settings.TIME_ZONE
    return agent.time_zone
