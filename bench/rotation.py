#!/usr/bin/env python
"""Benchmark: rotation assignments per second and latency, on SQLite and PostgreSQL.

    .venv/bin/python bench/rotation.py [--runs 3] [--seconds 5] [--workers 1,4,16]
                                       [--pg-url postgres://postgres@127.0.0.1:5432/sapa_bench]
                                       [--out bench/rotation-results.md]

What one "assignment" is: what the inbound webhook does for a new customer, in one transaction —
insert a contact and a conversation, `conversation_assign` (pool row lock, eligibility: active
agents, presence from Redis, open-chat counts; the full-cycle pick; the log row; the conversation
update), commit, and the `conversation.assigned` push to Redis after commit. Latency is measured
around that whole transaction, in the worker.

N worker processes (real OS processes, as several web processes would be) assign into ONE
division of 5 agents for a fixed time after a common start signal, closed-loop. Each
configuration runs several times; the table shows the median run (and the spread).

Databases are its own: a temporary SQLite file (WAL, IMMEDIATE, as in production settings) and
the PostgreSQL database from --pg-url, dropped and recreated. Without REDIS_URL it starts a
private Redis through scripts/with_redis.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
AGENTS = 5


# --- Worker side (runs inside Django) ----------------------------------------------------------


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def worker_setup() -> None:
    _django()
    from agents.services import agent_create
    from devices_app.models import Device
    from divisions.models import Division

    division = Division.objects.create(name="Bench", online_only=False)
    device = Device.objects.create(number="6281999000001", name="Bench", division=division)
    for i in range(AGENTS):
        agent_create(name=f"Bench agent {i}", device=device, division=division)
    print(json.dumps({"division": division.pk, "device": device.pk}), flush=True)


def worker_reset() -> None:
    """Resolve every open chat between runs, so open-chat counts stay realistic (agents resolve
    their chats; a desk does not pile up thousands per agent)."""
    _django()
    from django.utils import timezone

    from chats.models import Conversation

    Conversation.objects.exclude(status="resolved").update(
        status="resolved", resolved_at=timezone.now()
    )


def worker_assign(division_id: int, device_id: int, worker: int, seconds: float) -> None:
    _django()
    from django.db import transaction

    from chats.models import Contact, Conversation
    from chats.services.assignment import conversation_assign
    from rotation.models import AssignmentLog

    stamp = time.time_ns() % 10**9
    print("ready", flush=True)
    sys.stdin.readline()
    latencies = []
    cpu_start = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    i = 0
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        with transaction.atomic():
            contact = Contact.objects.create(device_id=device_id, address=f"b{stamp}-{worker}-{i}")
            conversation = Conversation.objects.create(
                contact=contact, device_id=device_id, division_id=division_id
            )
            conversation_assign(conversation=conversation, trigger=AssignmentLog.Trigger.NEW_CHAT)
        latencies.append((time.perf_counter() - t0) * 1000)
        i += 1
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    print(
        json.dumps({"n": len(latencies), "elapsed": elapsed, "cpu": cpu, "lat": latencies}),
        flush=True,
    )


# --- Orchestrator side (no Django) -------------------------------------------------------------


def env_for(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="bench-only-not-secret",
        DJANGO_DEBUG="false",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
    )
    return env


def run_self(mode: str, database_url: str, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", mode, *args],
        env=env_for(database_url),
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def prepare_sqlite(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'bench.sqlite3'}"


def prepare_postgres(url: str) -> str | None:
    import psycopg

    base, name = url.rsplit("/", 1)
    try:
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
            version = conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error as exc:
        print(f"PostgreSQL unavailable ({exc}); skipping it", file=sys.stderr)
        return None
    prepare_postgres.version = version
    return url


def drop_postgres(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(database_url: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        env=env_for(database_url),
        cwd=REPO,
        check=True,
    )


def one_run(database_url: str, ids: dict, workers: int, seconds: float) -> dict:
    run_self("reset", database_url)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                "assign",
                str(ids["division"]),
                str(ids["device"]),
                str(n),
                str(seconds),
            ],
            env=env_for(database_url),
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready"
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [json.loads(proc.communicate(timeout=seconds + 120)[0]) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    latencies = sorted(x for r in results for x in r["lat"])
    total = sum(r["n"] for r in results)
    elapsed = max(r["elapsed"] for r in results)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    return {
        "rate": total / elapsed,
        "n": total,
        "p50": pct(0.50),
        "p99": pct(0.99),
        # The worker's own CPU per assignment: less sensitive to a busy machine than the rate.
        "cpu_ms": sum(r["cpu"] for r in results) / max(total, 1) * 1000,
    }


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout.strip()
    import sqlite3

    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "cpu": cpu,
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", default="1,4,16")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/sapa_bench")
    parser.add_argument("--out", default=str(REPO / "bench" / "rotation-results.md"))
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        mode, *rest = args.worker
        if mode == "setup":
            worker_setup()
        elif mode == "reset":
            worker_reset()
        else:
            worker_assign(int(rest[0]), int(rest[1]), int(rest[2]), float(rest[3]))
        return 0

    if not os.environ.get("REDIS_URL"):
        os.execv(
            sys.executable,
            [sys.executable, str(REPO / "scripts" / "with_redis.py"), "--", sys.executable]
            + sys.argv,
        )

    info = machine()
    concurrencies = [int(x) for x in args.workers.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="sapa-rotation-bench-"))
    databases = [("SQLite", prepare_sqlite(workdir))]
    pg = prepare_postgres(args.pg_url)
    if pg:
        databases.append(("PostgreSQL", pg))
    rows = []
    try:
        rows = measure(databases, concurrencies, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if pg:
            drop_postgres(pg)
    info["load_after"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    write_results(Path(args.out), info, rows, args, getattr(prepare_postgres, "version", "-"))
    print(f"written to {args.out}")
    return 0


def measure(databases, concurrencies, args) -> list:
    rows = []
    for label, url in databases:
        migrate(url)
        ids = json.loads(run_self("setup", url))
        for workers in concurrencies:
            runs = [one_run(url, ids, workers, args.seconds) for _ in range(args.runs)]
            runs.sort(key=lambda r: r["rate"])
            median = runs[len(runs) // 2]
            rows.append((label, workers, median, runs))
            print(
                f"{label:10} {workers:>2} workers: {median['rate']:7.0f}/s  "
                f"p50 {median['p50']:6.1f} ms  p99 {median['p99']:6.1f} ms  "
                f"cpu {median['cpu_ms']:4.1f} ms  "
                f"(runs: {rates(runs)}/s)",
                flush=True,
            )
    return rows


def rates(runs: list[dict]) -> str:
    return ", ".join(f"{r['rate']:.0f}" for r in runs)


def write_results(path: Path, info: dict, rows: list, args, pg_version: str) -> None:
    lines = [
        "# Rotation benchmark results",
        "",
        "Produced by `.venv/bin/python bench/rotation.py` (its docstring says what is measured).",
        "",
        f"- Date: {info['date']}",
        f"- Commit: {info['commit']}",
        f"- Machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM",
        f"- Python {info['python']}, SQLite {info['sqlite']}, PostgreSQL {pg_version}",
        f"- Load average (1/5/15 min) before: {info['load']}; after: {info['load_after']}",
        f"- {args.runs} runs of {args.seconds:g} s per row; the median run by rate is shown, "
        "with every run's rate beside it.",
        "",
        "| database | workers | assignments/s | p50 ms | p99 ms | worker CPU ms/assignment "
        "| each run, /s |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, workers, median, runs in rows:
        lines.append(
            f"| {label} | {workers} | {median['rate']:.0f} | {median['p50']:.1f} | "
            f"{median['p99']:.1f} | {median['cpu_ms']:.1f} | {rates(runs)} |"
        )
    lines += [
        "",
        "One assignment = one transaction as the inbound webhook runs it (contact + conversation "
        "insert, pool row lock, eligibility with presence from Redis and open-chat counts, the "
        "full-cycle pick, the log row, the update), plus the push after commit. All workers "
        "assign into one division of 5 agents, so they all queue on the same pool lock: this is "
        "the worst case; different divisions do not wait for each other on PostgreSQL.",
        "",
        "Noise: the workers, Redis and the database share the machine's CPUs, and other "
        "sessions may be running on it (see the load averages); expect roughly ±15 % between "
        "runs. With more workers than CPUs, latency is mostly waiting for a CPU and the lock.",
        "",
    ]
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
