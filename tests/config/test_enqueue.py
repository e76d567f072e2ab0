"""`config.enqueue`: a broker that cannot be reached never fails a request that has committed.

A Celery app of the test's own publishes to a port nothing listens on (a Redis that is down):
real kombu, real connection refused.
"""

from __future__ import annotations

import logging

import pytest
from celery import Celery
from django.db import transaction
from kombu.exceptions import OperationalError

from config.enqueue import enqueue_on_commit
from tests.gateway_server import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def task_on_a_dead_broker():
    app = Celery("dead-broker", broker=f"redis://127.0.0.1:{free_port()}/0", set_as_current=False)

    @app.task(name="tests.noop")
    def noop(value: int) -> int:
        return value

    yield noop
    app.close()


def test_celerys_own_delay_on_commit_raises_after_the_commit(task_on_a_dead_broker):
    # The defect this module exists for: the row is committed, and the request answers 500.
    with pytest.raises(OperationalError), transaction.atomic():
        task_on_a_dead_broker.delay_on_commit(1)


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def enqueue_log():
    # On the module's own logger, not the root: a worker started in this process earlier in the
    # run reconfigures the root handlers (Celery's setup_logging), which caplog relies on.
    logger = logging.getLogger("config.enqueue")
    kept = _Kept()
    logger.addHandler(kept)
    yield kept
    logger.removeHandler(kept)


def test_a_dead_broker_is_logged_and_reported_not_raised(task_on_a_dead_broker, enqueue_log):
    failures = []
    with transaction.atomic():
        enqueue_on_commit(task_on_a_dead_broker, 1, on_failure=lambda: failures.append(1))
        assert failures == []  # nothing runs before the commit
    assert failures == [1]
    assert any("could not enqueue tests.noop(1,)" in line for line in enqueue_log.messages)


def test_nothing_is_enqueued_or_reported_on_rollback(task_on_a_dead_broker):
    failures = []
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(task_on_a_dead_broker, 1, on_failure=lambda: failures.append(1))
        raise RuntimeError("rolled back")
    assert failures == []
