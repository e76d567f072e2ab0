"""A per-visitor limit on the public rotator link (docs/SECURITY.md).

Every visit of /r/<slug> takes a turn of the rotation, writes an assignment log row and locks
the link's rotation state; a script that fetched the link 1,000 times took 1,000 turns and,
holding those locks, slowed webhooks threefold. A person opens the link a few times at most,
so visits beyond ROTATOR_VISITS_PER_MINUTE from one address in a minute are answered 429 and
take no turn. The count lives in the shared Redis cache (a fixed one-minute window per link
and address); when Redis is away the link keeps working unthrottled rather than failing.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


def rotator_visit_allowed(*, link_id: int, address: str) -> bool:
    limit = settings.ROTATOR_VISITS_PER_MINUTE
    if limit <= 0:
        return True
    window = int(time.time() // WINDOW_SECONDS)
    key = f"rotator-visits:{link_id}:{address}:{window}"
    try:
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        count = cache.incr(key)
    except Exception:
        logger.warning("rotator throttle unavailable (cache error); visit allowed", exc_info=True)
        return True
    return count <= limit
