#!/usr/bin/env python
"""Benchmark: the supervisor board and a month's report on a large desk.

    scripts/with_redis.py --always -- .venv/bin/python bench/supervision.py \
        [--conversations 100000] [--messages 1000000] [--runs 5] [--out FILE]

Builds a temporary SQLite database (or uses BENCH_DATABASE_URL, which it migrates and fills:
give it a database of its own), with 4 divisions, 40 agents, 8 devices and the given numbers of
conversations and messages spread over the last 90 days, then times, in-process and with the
query count, `board_read` for a supervisor of every division and `report_read` for the last 30
days in Asia/Jakarta. Reports the median of --runs runs. Server time only (no HTTP, no render).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def setup(database_url: str | None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_DEBUG", "true")  # the query log is reset before each count
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(conversations: int, messages: int) -> None:
    from django.utils import timezone

    from agents.models import Agent, User
    from chats.models import Contact, Conversation, Message
    from devices_app.models import Device
    from divisions.models import Division

    for model, names in (
        (Conversation, ["opened_at", "last_activity_at"]),
        (Message, ["created_at"]),
    ):
        for name in names:
            model._meta.get_field(name).auto_now_add = False  # keep the generated times
    rng = random.Random(7)
    now = timezone.now()
    divisions = [Division.objects.create(name=f"Division {i}") for i in range(4)]
    devices = [
        Device.objects.create(
            number=f"62811999{i:05d}", name=f"Phone {i}", division=divisions[i % 4]
        )
        for i in range(8)
    ]
    agents = []
    for i in range(40):
        user = User.objects.create(username=f"bench-agent-{i}")
        device = devices[i % 8]
        agents.append(
            Agent.objects.create(
                user=user,
                name=f"Agent {i}",
                device=device,
                division=device.division,
                token_hash=f"{i:064d}",
            )
        )
    by_division = {d.pk: [a for a in agents if a.division_id == d.pk] for d in divisions}
    batch = 5000
    contacts = [
        Contact(device=devices[i % 8], address=f"62812{i:08d}") for i in range(conversations)
    ]
    Contact.objects.bulk_create(contacts, batch_size=batch)
    contacts = list(Contact.objects.order_by("pk"))
    rows = []
    for i, contact in enumerate(contacts):
        opened = now - dt.timedelta(seconds=rng.randint(0, 90 * 86400))
        device = devices[i % 8]
        resolved = i % 20 != 0
        agent = rng.choice(by_division[device.division_id])
        rows.append(
            Conversation(
                contact=contact,
                device=device,
                division=device.division,
                agent=agent if i % 50 else None,
                status="resolved" if resolved else ("open" if i % 50 else "queued"),
                opened_at=opened,
                last_activity_at=opened,
                assigned_at=opened + dt.timedelta(seconds=5) if i % 50 else None,
                first_response_at=opened + dt.timedelta(seconds=rng.randint(30, 3600)),
                resolved_at=opened + dt.timedelta(seconds=rng.randint(3600, 86400))
                if resolved
                else None,
            )
        )
    Conversation.objects.bulk_create(rows, batch_size=batch)
    convs = list(Conversation.objects.values_list("pk", "device_id", "opened_at", "agent_id"))
    per = max(1, messages // len(convs))
    buf = []
    for pk, device_id, opened, agent_id in convs:
        for j in range(per):
            out = j % 2 == 1
            buf.append(
                Message(
                    conversation_id=pk,
                    device_id=device_id,
                    direction="out" if out else "in",
                    sender_agent_id=agent_id if out else None,
                    status=rng.choice(["read", "read", "read", "failed", "unconfirmed"])
                    if out
                    else "received",
                    created_at=opened + dt.timedelta(seconds=60 * j),
                )
            )
        if len(buf) >= batch:
            Message.objects.bulk_create(buf, batch_size=batch)
            buf = []
    Message.objects.bulk_create(buf, batch_size=batch)


def measure(runs: int) -> list[tuple[str, float, int]]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from supervision.board import board_read
    from supervision.reports import Period, report_read
    from supervision.scope import Scope

    scope = Scope(user_id=0, division_ids=None, time_zone="Asia/Jakarta")
    today = timezone.localdate(timezone=dt.timezone(dt.timedelta(hours=7)))
    period = Period(start=today - dt.timedelta(days=29), end=today, time_zone="Asia/Jakarta")
    results = []
    for name, call in (
        ("board_read (every division)", lambda: board_read(scope=scope)),
        ("report_read (30 days)", lambda: report_read(scope=scope, period=period)),
    ):
        times = []
        for _ in range(runs):
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                call()
                times.append(time.perf_counter() - start)
        results.append((name, statistics.median(times), len(queries)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(REPO / "bench" / "supervision-results.md"))
    args = parser.parse_args()
    setup(os.environ.get("BENCH_DATABASE_URL"))
    from django.db import connection

    started = time.perf_counter()
    fill(args.conversations, args.messages)
    filled = time.perf_counter() - started
    results = measure(args.runs)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    lines = [
        "# Supervision benchmark",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · commit {commit} · {platform.machine()}, "
        f"{os.cpu_count()} cores (shared) · {connection.vendor}",
        f"{args.conversations:,} conversations, {args.messages:,} messages "
        f"(filled in {filled:.0f} s) · median of {args.runs} runs",
        "",
        "| call | median server time | queries |",
        "|---|---|---|",
    ] + [f"| {name} | {seconds * 1000:.0f} ms | {queries} |" for name, seconds, queries in results]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
