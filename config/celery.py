from __future__ import annotations

import os

from celery import Celery
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("sapa")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The message header that carries the enqueuer's log context (config/logs.py) into a task.
LOG_CONTEXT_HEADER = "sapa_log_context"


@setup_logging.connect
def _log_like_django(**_kwargs) -> None:
    """Workers and beat log through Django's LOGGING (one format, JSON when configured) instead
    of Celery replacing the root handlers with its own."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@before_task_publish.connect
def _carry_log_context(headers: dict | None = None, **_kwargs) -> None:
    from .logs import log_context

    context = log_context()
    context.pop("task_id", None)
    if headers is not None and context:
        headers[LOG_CONTEXT_HEADER] = context


@task_prerun.connect
def _bind_task_log_context(task_id: str | None = None, task=None, **_kwargs) -> None:
    from .logs import CONTEXT_KEYS, log_context_start

    if task is not None and task.request.is_eager:
        return  # run inline by its caller (tests): the caller's context stays
    carried = getattr(task.request, LOG_CONTEXT_HEADER, None) if task is not None else None
    ids = {
        key: value
        for key, value in (carried.items() if isinstance(carried, dict) else ())
        if key in CONTEXT_KEYS and key != "task_id"
    }
    log_context_start(**ids, task_id=task_id)


@task_postrun.connect
def _clear_task_log_context(task=None, **_kwargs) -> None:
    import structlog

    if task is not None and not task.request.is_eager:
        structlog.contextvars.clear_contextvars()
