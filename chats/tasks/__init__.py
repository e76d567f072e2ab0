"""Celery tasks of chats (interfaces: take ids, re-fetch, guard on state, call one service).

Celery's autodiscovery imports `chats.tasks`; each flow keeps its tasks in its own module.
"""

from .assignment import *  # noqa: F403
from .media import *  # noqa: F403
from .sending import *  # noqa: F403
