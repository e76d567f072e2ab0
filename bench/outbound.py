#!/usr/bin/env python
"""Outbound send path benchmark: agent reply → Celery → gateway, measured end to end.

    .venv/bin/python bench/outbound.py [--quick] [--database-url URL] [--write]

Everything is local and bounded: a private redis-server on a free loopback port, a temporary
SQLite database (or --database-url, e.g. a throwaway PostgreSQL database), a Fonnte-speaking
HTTP server in this process (stdlib, threaded, answers after 0 ms or 150 ms), and a real
`celery worker --pool threads` child process at -c 16 and -c 64.

Per configuration (gateway delay × worker concurrency), median of the repeats:
- worker alone: N replies queued while no worker runs, then drained by a fresh worker; sends/s
  between the gateway's first and last request;
- throughput: N replies created by 4 threads as fast as they go; replies/s = N / (last request
  received by the gateway − first `message_reply_create` call);
- latency: replies created open-loop at a fixed rate (reply k at start + k/rate, whatever
  happened to earlier ones); p50 / p99 from the `message_reply_create` call to the gateway
  receiving that reply's request.
Each run also checks that every reply reached the gateway exactly once and ended `sent`.

Pacing stays in the path (its Redis script runs per send) with a rate too high to defer; the
realtime pushes go to the real channel layer. The load generator, the gateway, Redis, the worker
and the database share this machine's cores: read the figures as this machine's, not as limits.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from with_redis import start_redis  # noqa: E402

RESULTS = ROOT / "bench" / "outbound-results.md"


# --- The gateway ------------------------------------------------------------------------------


class Gateway:
    """Fonnte's /send, answering after `delay` seconds; stamps each request's arrival."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.lock = threading.Lock()
        self.received: dict[str, float] = {}
        self.duplicates = 0
        self.counter = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like Fonnte behind its proxy
            # Headers and body leave in two writes: without TCP_NODELAY, Nagle + the client's
            # delayed ACK add ~40 ms to every answer (an artefact of this server, not Sapa).
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                arrived = time.perf_counter()
                body = json.loads(self.rfile.read(length) or b"{}")
                key = str(body.get("message", ""))
                with gateway.lock:
                    if key in gateway.received:
                        gateway.duplicates += 1
                    else:
                        gateway.received[key] = arrived
                    gateway.counter += 1
                    number = gateway.counter
                if gateway.delay:
                    time.sleep(gateway.delay)
                answer = json.dumps(
                    {
                        "detail": "success! message in queue",
                        "id": [str(10_000_000 + number)],
                        "process": "pending",
                        "requestid": number,
                        "status": True,
                        "target": [str(body.get("target", ""))],
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.daemon_threads = True
        ThreadingHTTPServer.request_queue_size = 256
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.duplicates = 0

    def stop(self) -> None:
        self.server.shutdown()


# --- Set-up -----------------------------------------------------------------------------------


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_conversations(count: int):
    from agents.services import agent_create
    from chats.models import Contact, Conversation
    from devices_app.models import Device
    from divisions.models import Division

    division = Division.objects.create(name=f"Bench {time.time_ns()}")
    device = Device.objects.create(
        number=f"6281{time.time_ns() % 10**9:09d}",
        name="Bench device",
        gateway=Device.Gateway.FONNTE,
        gateway_token="bench-token",
        division=division,
        status=Device.Status.CONNECTED,
    )
    agent = agent_create(name="Bench agent", device=device, division=division).agent
    conversations = []
    for n in range(count):
        contact = Contact.objects.create(device=device, address=f"62812{n:08d}")
        conversations.append(
            Conversation.objects.create(
                contact=contact,
                device=device,
                division=division,
                agent=agent,
                status=Conversation.Status.OPEN,
            )
        )
    return agent, conversations


class Worker:
    def __init__(self, env: dict[str, str], concurrency: int, logdir: str) -> None:
        self.log = Path(logdir) / f"worker-c{concurrency}.log"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "WARNING",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- Runs -------------------------------------------------------------------------------------


def create(conversation, agent, text: str) -> float:
    from chats.services.outbound import message_reply_create

    started = time.perf_counter()
    message_reply_create(conversation=conversation, agent=agent, text=text)
    return started


def wait_received(gateway: Gateway, keys: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with gateway.lock:
            if all(key in gateway.received for key in keys):
                return True
        time.sleep(0.02)
    return False


def check_sent(tag: str, expected: int) -> int:
    from chats.models import Message

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sent = Message.objects.filter(text__startswith=tag, status=Message.Status.SENT).count()
        if sent == expected:
            return sent
        time.sleep(0.1)
    return sent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def run_drain(gateway, keys: list[str], tag: str) -> dict:
    complete = wait_received(gateway, keys, 180)
    with gateway.lock:
        arrivals = sorted(gateway.received[key] for key in keys if key in gateway.received)
        duplicates = gateway.duplicates
    return {
        "n": len(keys),
        "complete": complete,
        "received": len(arrivals),
        "duplicates": duplicates,
        "sent": check_sent(tag, len(keys)),
        "sends_per_s": (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]),
    }


def run_throughput(gateway, agent, conversations, n: int, tag: str, timeout: float) -> dict:
    from django.db import connection

    gateway.reset()
    keys = [f"{tag} {k}" for k in range(n)]
    starts: dict[str, float] = {}

    def creator(offset: int) -> None:
        try:
            for k in range(offset, n, 4):
                starts[keys[k]] = create(conversations[k % len(conversations)], agent, keys[k])
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(creator, range(4)))
    created_at = time.perf_counter()
    complete = wait_received(gateway, keys, timeout)
    with gateway.lock:
        received = {key: gateway.received[key] for key in keys if key in gateway.received}
        duplicates = gateway.duplicates
    first = min(starts.values())
    last = max(received.values()) if received else first
    latencies = [(received[key] - starts[key]) * 1000 for key in received]
    return {
        "n": n,
        "complete": complete,
        "received": len(received),
        "duplicates": duplicates,
        "sent": check_sent(tag, n),
        "create_per_s": n / (created_at - first),
        "replies_per_s": len(received) / (last - first),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


def run_latency(gateway, agent, conversations, rate: float, seconds: float, tag: str) -> dict:
    from django.db import connection

    gateway.reset()
    n = int(rate * seconds)
    keys = [f"{tag} {k}" for k in range(n)]
    starts: dict[str, float] = {}
    begin = time.perf_counter() + 0.2

    def creator(offset: int) -> None:
        try:
            for k in range(offset, n, 4):
                due = begin + k / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                starts[keys[k]] = create(conversations[k % len(conversations)], agent, keys[k])
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(creator, range(4)))
    achieved = n / (max(starts.values()) - min(starts.values()))
    complete = wait_received(gateway, keys, 60)
    with gateway.lock:
        latencies = [
            (gateway.received[key] - starts[key]) * 1000 for key in keys if key in gateway.received
        ]
        duplicates = gateway.duplicates
    return {
        "n": n,
        "complete": complete,
        "received": len(latencies),
        "duplicates": duplicates,
        "sent": check_sent(tag, n),
        "rate": achieved,
        "p50": percentile(latencies, 50),
        "p90": percentile(latencies, 90),
        "p99": percentile(latencies, 99),
        "max": max(latencies),
    }


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "chats", "devices_app", "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "nproc": str(os.cpu_count()),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "cpu": cpu,
        "python": platform.python_version(),
        "commit": commit + (" (+ uncommitted changes)" if dirty else ""),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer and smaller runs")
    parser.add_argument("--database-url", help="a throwaway database (default: temp SQLite)")
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    args = parser.parse_args()

    repeats = 1 if args.quick else 3
    n = 300 if args.quick else 600
    latency_rate, latency_seconds = 50.0, (4.0 if args.quick else 8.0)
    delays = [0.0, 0.150]
    concurrencies = [16, 64]

    info = machine()  # the commit measured is the one checked out now
    workdir = tempfile.mkdtemp(prefix="sapa-bench-")
    redis_proc, redis_url = start_redis()
    gateway = Gateway()
    database_url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "bench-only-not-secret",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "FONNTE_API_URL": gateway.url,
        # Pacing runs (one Redis script per send) but never defers at these rates.
        "SEND_RATE_PER_DEVICE": "1000000",
        "SEND_BURST_PER_DEVICE": "1000000",
        "GATEWAY_MAX_CONNECTIONS": "128",
        "LOG_LEVEL": "WARNING",
    }
    worker = None
    rows = []
    try:
        setup_django(env)
        from django.db import connection

        agent, conversations = make_conversations(200)
        engine = connection.vendor
        for delay in delays:
            gateway.delay = delay
            for concurrency in concurrencies:
                drain, throughput, latency = [], [], []
                for r in range(repeats):
                    # A backlog queued while no worker runs, then drained by a fresh worker:
                    # what the worker alone sustains, without the creators competing.
                    tag = f"drain-{concurrency}-{delay}-{r}"
                    keys = [f"{tag} {k}" for k in range(n)]
                    gateway.reset()
                    for k, key in enumerate(keys):
                        create(conversations[k % len(conversations)], agent, key)
                    worker = Worker(env, concurrency, workdir)
                    drain.append(run_drain(gateway, keys, tag))
                    tag = f"tp-{concurrency}-{delay}-{r}"
                    throughput.append(run_throughput(gateway, agent, conversations, n, tag, 120))
                    tag = f"lat-{concurrency}-{delay}-{r}"
                    latency.append(
                        run_latency(
                            gateway, agent, conversations, latency_rate, latency_seconds, tag
                        )
                    )
                    worker.stop()
                    worker = None
                row = {
                    "delay_ms": int(delay * 1000),
                    "concurrency": concurrency,
                    "drain": drain,
                    "throughput": throughput,
                    "latency": latency,
                }
                rows.append(row)
                print(summary_line(row), flush=True)
    finally:
        if worker is not None:
            worker.stop()
        gateway.stop()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)

    report = render(rows, info, engine, repeats, n, latency_rate, latency_seconds)
    print(report)
    if args.write:
        RESULTS.write_text(report)
        print(f"wrote {RESULTS}")
    return 0


def med(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def summary_line(row: dict) -> str:
    tp, lat = row["throughput"], row["latency"]
    return (
        f"gateway {row['delay_ms']:>3} ms, -c {row['concurrency']:>2}: "
        f"drain {med(row['drain'], 'sends_per_s'):7.1f} sends/s; "
        f"{med(tp, 'replies_per_s'):7.1f} replies/s (create {med(tp, 'create_per_s'):.0f}/s), "
        f"at {med(lat, 'rate'):.0f}/s p50 {med(lat, 'p50'):.1f} ms p99 {med(lat, 'p99'):.1f} ms"
    )


def render(rows, info, engine, repeats, n, rate, seconds) -> str:
    lines = [
        "# Outbound send path — benchmark results",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, "
        f"Python {info['python']}",
        f"- commit: {info['commit']}",
        f"- database: {engine}; Redis: private redis-server on loopback; worker: "
        "`celery worker --pool threads`",
        f"- command: `.venv/bin/python bench/outbound.py --write` ({repeats} repeats per row, "
        "medians shown)",
        "",
        "Load generator (4 creator threads calling `message_reply_create`), the Fonnte-speaking",
        "gateway, Redis, the worker and the database all share these cores.",
        "",
        f"## Worker alone: a backlog of {n} queued replies drained by a fresh worker",
        "",
        "Sends/s between the first and the last request the gateway received.",
        "",
        "| gateway answers after | worker -c | sends/s | all sent once |",
        "|---|---|---|---|",
    ]
    for row in rows:
        dr = row["drain"]
        ok = all(
            run["complete"] and run["duplicates"] == 0 and run["sent"] == run["n"] for run in dr
        )
        lines.append(
            f"| {row['delay_ms']} ms | {row['concurrency']} | {med(dr, 'sends_per_s'):.0f} "
            f"| {'yes' if ok else 'NO'} |"
        )
    lines += [
        "",
        f"## End to end: {n} replies created as fast as 4 threads go",
        "",
        "| gateway answers after | worker -c | replies/s end to end | creation rate /s "
        "| p50 ms | p99 ms | all sent once |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        tp = row["throughput"]
        ok = all(
            run["complete"] and run["duplicates"] == 0 and run["sent"] == run["n"] for run in tp
        )
        lines.append(
            f"| {row['delay_ms']} ms | {row['concurrency']} | {med(tp, 'replies_per_s'):.0f} "
            f"| {med(tp, 'create_per_s'):.0f} | {med(tp, 'p50'):.0f} | {med(tp, 'p99'):.0f} "
            f"| {'yes' if ok else 'NO'} |"
        )
    lines += [
        "",
        "Under a burst, latency is mostly queueing behind earlier replies: read it with the",
        "open-loop figures below.",
        "",
        f"## Latency: open-loop at {rate:.0f} replies/s for {seconds:.0f} s",
        "",
        "From the `message_reply_create` call to the gateway receiving that reply's request.",
        "",
        "| gateway answers after | worker -c | achieved rate /s | p50 ms | p90 ms | p99 ms "
        "| max ms | all sent once |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lat = row["latency"]
        ok = all(
            run["complete"] and run["duplicates"] == 0 and run["sent"] == run["n"] for run in lat
        )
        lines.append(
            f"| {row['delay_ms']} ms | {row['concurrency']} | {med(lat, 'rate'):.0f} "
            f"| {med(lat, 'p50'):.1f} | {med(lat, 'p90'):.1f} | {med(lat, 'p99'):.1f} "
            f"| {med(lat, 'max'):.1f} | {'yes' if ok else 'NO'} |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
