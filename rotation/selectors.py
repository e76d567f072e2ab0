from __future__ import annotations

from .models import RotatorLink


def rotator_link_get_active(*, slug: str) -> RotatorLink | None:
    return RotatorLink.objects.filter(slug=slug, is_active=True).first()
