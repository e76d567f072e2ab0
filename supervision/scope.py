"""The one rule every supervision view, action, report and socket event goes through: which
divisions a staff user supervises (supervision.models.SupervisorScope)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet

from divisions.models import Division

from .models import SupervisorScope


@dataclass(frozen=True)
class Scope:
    """`division_ids` None means every division (present and future)."""

    user_id: int
    division_ids: frozenset[int] | None
    time_zone: str

    def allows(self, division_id: int | None) -> bool:
        if division_id is None:
            return False
        return self.division_ids is None or division_id in self.division_ids

    def q(self, field: str = "division") -> Q:
        """A filter on `<field>_id` (e.g. "division", "conversation__division")."""
        if self.division_ids is None:
            return Q()
        return Q(**{f"{field}_id__in": sorted(self.division_ids)})


def is_supervisor(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def _zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return settings.TIME_ZONE
    return name


def supervisor_scope_for_user(*, user) -> Scope | None:
    """The user's scope, or None when they are no supervisor (not active staff)."""
    if not is_supervisor(user):
        return None
    row = SupervisorScope.objects.filter(user=user).first()
    zone = _zone(row.time_zone) if row else settings.TIME_ZONE
    if user.is_superuser or row is None or row.all_divisions:
        return Scope(user_id=user.pk, division_ids=None, time_zone=zone)
    ids = frozenset(row.divisions.values_list("pk", flat=True))
    return Scope(user_id=user.pk, division_ids=ids, time_zone=zone)


def divisions_for_scope(*, scope: Scope) -> QuerySet[Division]:
    if scope.division_ids is None:
        return Division.objects.order_by("name")
    return Division.objects.filter(pk__in=sorted(scope.division_ids)).order_by("name")
