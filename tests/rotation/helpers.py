"""Shared helpers for the rotation tests (real SQLite/PostgreSQL, real Redis)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.db import connection, transaction

from agents.presence import new_connection_id, presence_connect
from chats.models import Conversation
from rotation.services import rotation_pick, rotation_state_lock
from tests.factories import AgentFactory, ContactFactory, DeviceFactory

REPO = Path(__file__).resolve().parents[2]


def pick(pool, members, *, mode="full", rng=None, skipped_turn="keep", trigger="new_chat"):
    """One pick in its own transaction, as a caller of the rotation service does it."""
    with transaction.atomic():
        state = rotation_state_lock(pool=pool)
        return rotation_pick(
            state=state,
            mode=mode,
            members=members,
            trigger=trigger,
            skipped_turn=skipped_turn,
            rng=rng,
        )


def make_agents(division, n, **kwargs):
    device = DeviceFactory(division=division)
    return [AgentFactory(device=device, division=division, **kwargs) for _ in range(n)]


def online(agent) -> str:
    """Open a presence connection for the agent, as their socket would."""
    conn = new_connection_id()
    presence_connect(agent_id=agent.pk, conn=conn)
    return conn


def new_conversation(division, *, device=None, contact=None, **kwargs) -> Conversation:
    if contact is None:
        device = device or division.devices.first() or DeviceFactory(division=division)
        contact = ContactFactory(device=device)
    return Conversation.objects.create(
        contact=contact, device=contact.device, division=division, **kwargs
    )


def test_database_url() -> str:
    """A DATABASE_URL that points a child process at this test run's database."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    user = quote(s.get("USER") or "", safe="")
    password = f":{quote(s['PASSWORD'], safe='')}" if s.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


test_database_url.__test__ = False  # not a test, despite its name


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_database_url(),
        DJANGO_SETTINGS_MODULE="config.test_settings",
        PYTHONPATH=str(REPO),
        **extra,
    )
    return env


def start_children(args_list: list[list[str]], **env_extra: str) -> list[subprocess.Popen]:
    """Start one worker process per argument list; each prints "ready" and waits for "go"."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "rotation" / "worker.py"), *args],
            env=child_env(**env_extra),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for args in args_list
    ]
    return procs


def run_children(procs: list[subprocess.Popen], timeout: float = 300) -> list[str]:
    """Release the children at once and wait for all; returns their stdout. Kills on failure."""
    try:
        for proc in procs:
            line = proc.stdout.readline().strip()
            if line != "ready":
                raise AssertionError(f"worker did not start: {line!r} {proc.stderr.read()}")
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = []
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            assert proc.returncode == 0, err
            outputs.append(out)
        return outputs
    finally:
        # Children must be gone before the test database is flushed or dropped.
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
