#!/usr/bin/env python
"""bench/ingest: Fonnte webhook → stored → pushed to the agent's socket, measured end to end.

Starts its own private Redis, a temporary SQLite database (or uses DATABASE_URL, e.g. a
PostgreSQL database you name), and Uvicorn with 2 worker processes serving Sapa; logs in the
agents of one division and holds their WebSockets on that Uvicorn; then

1. throughput, in interleaved rounds (median reported): closed-loop, CONCURRENCY clients POST
   as fast as they are answered for a fixed time → sustained stored messages per second, and
   server CPU per stored message (every server process, including the socket renders); each
   round first measures `/healthz` on the same server the same way (the same-run baseline:
   the figure to compare across machines is the ratio);
2. latency: open-loop at fixed offered rates (message k is sent at start + k/rate whether or
   not earlier ones were answered, so a slow server cannot hide its backlog); each message's
   marker is stamped at send and matched in the frame that reaches an agent socket; after a
   drain, messages answered 200 but never pushed count as lost.

`--hooks uvicorn,gunicorn` also serves /hooks/ from gunicorn (WSGI, sync workers) beside the
Uvicorn that holds the sockets: the webhook needs no WebSocket and its push reaches the socket
through the channel layer from any process. `--compare REV` also serves /hooks/ from the code
at git revision REV (exported with `git archive`, same database and Redis): before/after in
the same run.

Writes bench/ingest-results.md. Loopback only; every loop is bounded in count and time.

    .venv/bin/python bench/ingest.py [--rates 25,50] [--seconds 10] [--rounds 3]
        [--hooks uvicorn,gunicorn] [--compare REV]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
import websockets

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEVICE_NUMBER = "6287700000001"
MARKER = re.compile(r"bench-(\d+)-(\d+)")

_spec = importlib.util.spec_from_file_location("with_redis", ROOT / "scripts" / "with_redis.py")
with_redis = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(with_redis)


# --- Setup ----------------------------------------------------------------------------------


def server_env(workdir: Path, redis_url: str, port: int) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="bench-only-not-secret",
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        REDIS_URL=redis_url,
        AXES_ENABLED="false",
        LOG_LEVEL="WARNING",
    )
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    return env


SETUP = """
import json
from agents.services import agent_create
from devices_app.models import Device
from divisions.models import Division
division = Division.objects.create(name="Bench", online_only=False)
device = Device.objects.create(number="{number}", name="Bench", division=division)
tokens = []
for n in range({agents}):
    tokens.append(agent_create(name=f"Agent {{n}}", device=device, division=division).token)
print("SETUP" + json.dumps({{"key": device.webhook_key, "tokens": tokens}}))
"""


def prepare_database(env: dict, agents: int) -> dict:
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    # DEBUG off serves static files from the manifest (the login page needs it).
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", SETUP.format(number=DEVICE_NUMBER, agents=agents)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.split("SETUP", 1)[1])


def wait_healthy(proc: subprocess.Popen, port: int, name: str) -> subprocess.Popen:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    sys.exit(f"{name} did not answer /healthz within 30 s")


def _tool(name: str) -> str:
    return shutil.which(name, path=str(Path(PYTHON).parent)) or name


def start_uvicorn(env: dict, port: int, workers: int, cwd: Path = ROOT) -> subprocess.Popen:
    command = [_tool("uvicorn"), "config.asgi:application", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    command += ["--no-access-log", "--log-level", "warning"]
    proc = subprocess.Popen(command, cwd=cwd, env=env)
    return wait_healthy(proc, port, "uvicorn")


def start_gunicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    """Sync workers (one request at a time each, no keep-alive): behind a buffering proxy,
    which is how a WSGI server for /hooks/ would be deployed."""
    command = [_tool("gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--worker-class", "sync", "--log-level", "warning"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    return wait_healthy(proc, port, "gunicorn")


def export_revision(rev: str, into: Path) -> str:
    """The tree at `rev` in `into` (git archive: no worktree, no checkout); its short hash."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


async def login(base: str, token: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        await client.get("/login")
        response = await client.post(
            "/login",
            data={
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
                "device_number": DEVICE_NUMBER,
                "token": token,
            },
        )
        assert response.status_code == 302, response.status_code
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


# --- Measurement -----------------------------------------------------------------------------


class Receiver:
    """Holds the agent sockets; records when each marker first arrives."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[int, int], float] = {}
        self.frames = 0
        self.closed: list[str] = []

    async def listen(self, ws) -> None:
        try:
            async for frame in ws:
                now = time.perf_counter()
                self.frames += 1
                for run, k in set(MARKER.findall(frame)):
                    self.arrived.setdefault((int(run), int(k)), now)
        except websockets.ConnectionClosed as exc:
            self.closed.append(str(exc))


def body(run: int, k: int, contacts: int) -> str:
    """Message k of run `run`. Every run has its own customers and the same mix whatever its
    rate: in each block of 2×`contacts` messages the first half opens new chats (one per new
    customer) and the second half appends one message to each of them."""
    customer = k % contacts + contacts * (k // (2 * contacts))
    sender = f"6282{run:03d}{customer:07d}"
    return json.dumps(
        {
            "quick": False,
            "device": DEVICE_NUMBER,
            "pesan": f"bench-{run}-{k}",
            "pengirim": sender,
            "member": "",
            "message": f"bench-{run}-{k}",
            "text": "non-button message",
            "sender": sender,
            "name": f"Customer {customer}",
            "location": "",
            "url": "",
            "type": "text",
            "extension": "",
            "filename": "",
            "pollname": "",
            "choices": [],
            "inboxid": run * 10_000_000 + k + 1,
            "timestamp": int(time.time()),
            "isgroup": False,
            "isforwarded": False,
        }
    )


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class Cpu:
    """CPU seconds and RSS of the server processes (Uvicorn's parent and workers)."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)

    def procs(self) -> list[psutil.Process]:
        return [self.root, *self.root.children(recursive=True)]

    def sample(self) -> dict[int, float]:
        out = {}
        for proc in self.procs():
            try:
                times = proc.cpu_times()
                out[proc.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return out

    def rss_mib(self) -> list[float]:
        return [round(p.memory_info().rss / 2**20) for p in self.procs()]


class CpuGroup:
    """CPU seconds of several servers' process trees together."""

    def __init__(self, cpus: list[Cpu]) -> None:
        self.cpus = cpus

    def sample(self) -> dict[int, float]:
        out: dict[int, float] = {}
        for cpu in self.cpus:
            out.update(cpu.sample())
        return out


async def throughput(
    url: str, run: int, seconds: float, concurrency: int, contacts: int, *, get: bool = False
):
    """Closed loop: `concurrency` clients, each sending its next request when answered.
    `get=True` sends GETs to `url` (the /healthz baseline) instead of webhook POSTs."""
    sent = ok = errors = 0
    stop = time.perf_counter() + seconds
    counter = iter(range(10_000_000))

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal sent, ok, errors
        while time.perf_counter() < stop:
            k = next(counter)
            sent += 1
            try:
                if get:
                    response = await client.get(url)
                else:
                    response = await client.post(url, content=body(run, k, contacts))
                if response.status_code == 200:
                    ok += 1
                else:
                    errors += 1
            except httpx.HTTPError:
                errors += 1

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"sent": sent, "ok": ok, "errors": errors, "rate": ok / elapsed}


async def open_loop(
    url: str, receiver: Receiver, run: int, rate: int, seconds: float, contacts: int, drain: float
) -> dict:
    total = int(rate * seconds)
    stamps: dict[int, float] = {}
    http_latency: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0

    async def fire(client: httpx.AsyncClient, k: int) -> None:
        nonlocal errors
        stamps[k] = time.perf_counter()
        try:
            response = await client.post(url, content=body(run, k, contacts))
            http_latency.append(time.perf_counter() - stamps[k])
            statuses[k] = response.status_code
            if response.status_code != 200:
                errors += 1
        except httpx.HTTPError:
            errors += 1
            statuses[k] = 0

    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        start = time.perf_counter()
        tasks = []
        for k in range(total):  # bounded by count
            delay = start + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(fire(client, k)))
        send_window = time.perf_counter() - start
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
    ok = [k for k, status in statuses.items() if status == 200]
    deadline = time.perf_counter() + drain
    while time.perf_counter() < deadline:  # bounded by time
        if all((run, k) in receiver.arrived for k in ok):
            break
        await asyncio.sleep(0.05)
    latencies = [
        (receiver.arrived[(run, k)] - stamps[k]) * 1000 for k in ok if (run, k) in receiver.arrived
    ]
    return {
        "offered": rate,
        "sent": total,
        "achieved": total / send_window,
        "ok": len(ok),
        "http_errors": errors,
        "received": len(latencies),
        "lost": len(ok) - len(latencies),
        "p50": pct(latencies, 50),
        "p90": pct(latencies, 90),
        "p99": pct(latencies, 99),
        "max": max(latencies) if latencies else float("nan"),
        "http_p50": pct([v * 1000 for v in http_latency], 50),
        "http_p99": pct([v * 1000 for v in http_latency], 99),
    }


# --- Main ------------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} CPUs (nproc), {ram:.1f} GiB RAM, {cpu}, {platform.platform()}"


def commit() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except OSError:
        return "unknown"


async def measure(args, variants: dict, ws_base: str, setup: dict, cpu: Cpu):
    """Closed-loop rounds over every variant (interleaved), then open-loop latency per hooks
    server. `variants`: name → base URL serving /hooks/ and /healthz."""
    receiver = Receiver()
    sockets = []
    listeners = []
    for token in setup["tokens"]:
        cookie = await login(ws_base, token)
        ws = await websockets.connect(
            f"{ws_base.replace('http://', 'ws://')}/ws/agent/",
            additional_headers={"Cookie": cookie, "Origin": ws_base},
            max_size=2**22,
        )
        sockets.append(ws)
        listeners.append(asyncio.create_task(receiver.listen(ws)))
    hook = "/hooks/fonnte/{key}/incoming".format(key=setup["key"])
    runs = iter(range(1, 1000))

    for base in variants.values():  # warm-up: imports, pools, first templates
        await throughput(base + hook, next(runs), 2, args.concurrency, args.contacts)
    await asyncio.sleep(1)

    rounds: dict[str, list[dict]] = {name: [] for name in variants}
    for round_no in range(args.rounds):
        for name, base in variants.items():
            health = await throughput(
                base + "/healthz", 0, args.baseline_seconds, args.concurrency, 0, get=True
            )
            before = cpu.sample()
            started = time.perf_counter()
            closed = await throughput(
                base + hook, next(runs), args.seconds, args.concurrency, args.contacts
            )
            elapsed = time.perf_counter() - started
            # Pushes still being rendered belong to this round's CPU.
            await asyncio.sleep(1)
            after = cpu.sample()
            cpu_s = sum(after.get(p, 0) - before.get(p, 0) for p in after)
            closed.update(
                healthz=health["rate"],
                healthz_errors=health["errors"],
                ratio=closed["rate"] / health["rate"] if health["rate"] else float("nan"),
                cpu_cores=cpu_s / elapsed,
                cpu_ms_per_msg=cpu_s * 1000 / closed["ok"] if closed["ok"] else float("nan"),
            )
            rounds[name].append(closed)
            print(
                f"  round {round_no + 1} {name}: {closed['rate']:.0f} msg/s "
                f"({closed['errors']} errors), {closed['cpu_ms_per_msg']:.1f} ms CPU/msg; "
                f"/healthz {health['rate']:.0f} req/s; ratio {closed['ratio']:.3f}",
                flush=True,
            )
        await asyncio.sleep(args.drain / 2)

    latency: dict[str, list[dict]] = {}
    for name, base in variants.items():
        if name not in args.latency_for:
            continue
        latency[name] = []
        for rate in args.rates:
            before = cpu.sample()
            started = time.perf_counter()
            result = await open_loop(
                base + hook, receiver, next(runs), rate, args.seconds, args.contacts, args.drain
            )
            elapsed = time.perf_counter() - started
            after = cpu.sample()
            result["cpu_total"] = sum(after.get(p, 0) - before.get(p, 0) for p in after) / elapsed
            latency[name].append(result)
            print(
                f"  {name} {rate:>4}/s offered: achieved {result['achieved']:.0f}/s, "
                f"{result['ok']} ok, {result['http_errors']} HTTP errors, "
                f"{result['received']} pushed, {result['lost']} lost, "
                f"p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms",
                flush=True,
            )
            await asyncio.sleep(1)
    for ws in sockets:
        await ws.close()
    for task in listeners:
        task.cancel()
    return rounds, latency, {"frames": receiver.frames, "closed_early": receiver.closed}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def write_report(
    path: Path,
    args,
    variants: dict[str, str],
    rounds: dict,
    latency: dict,
    cpu_rss: list[float],
    database: str,
) -> None:
    lines = [
        "# bench/ingest results",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        f"- Commit: {commit()}",
        f"- Servers: Uvicorn, {args.workers} worker processes, `DJANGO_DEBUG=false`, holding "
        f"the {args.agents} agent sockets (and serving /hooks/ in the `uvicorn` rows); "
        + "; ".join(f"`{name}`: {desc}" for name, desc in variants.items())
        + f". Database: {database}; channel layer: Sapa's RedisPubSubChannelLayer subclass on "
        "a private Redis.",
        f"- Traffic: every run has its own customers; in each block of {2 * args.contacts} "
        f"messages the first {args.contacts} open a new chat (rotation assigns it) and the "
        "next ones append a message to those chats (half new chats, half appends).",
        "- The load generator (this script, one asyncio process), Redis and the database "
        "share the same CPUs as the servers: figures are for the whole box, and the box may "
        "be shared with other work. Compare ratios and same-run rows, not absolute figures "
        "across runs.",
        "",
        f"## Sustained throughput (closed loop, {args.concurrency} concurrent clients, "
        f"{args.seconds:.0f} s, median of {args.rounds} interleaved rounds)",
        "",
        "| /hooks/ served by | webhook msg/s | /healthz req/s (same server, same round) | "
        "ratio webhook ÷ healthz | server CPU ms per message | server CPU cores | "
        "errors | rounds (msg/s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in rounds.items():
        lines.append(
            f"| {name} | **{median([r['rate'] for r in runs]):.0f}** | "
            f"{median([r['healthz'] for r in runs]):.0f} | "
            f"{median([r['ratio'] for r in runs]):.3f} | "
            f"{median([r['cpu_ms_per_msg'] for r in runs]):.1f} | "
            f"{median([r['cpu_cores'] for r in runs]):.2f} | "
            f"{sum(r['errors'] for r in runs)} | "
            + ", ".join(f"{r['rate']:.0f}" for r in runs)
            + " |"
        )
    lines += [
        "",
        "*Server CPU* sums every server process (the Uvicorn that holds the sockets and renders "
        "each push for its socket, and the process that served the webhook), divided by the "
        "messages stored in the round.",
        f"- Server RSS after the run (MiB, per process): {', '.join(map(str, cpu_rss))}",
    ]
    for name, results in latency.items():
        lines += [
            "",
            f"## Webhook POST → frame at the agent's socket, /hooks/ on {name} "
            f"(open loop, {args.seconds:.0f} s per rate)",
            "",
            "| offered msg/s | achieved | answered 200 | HTTP errors | pushed | lost | p50 ms | "
            "p90 ms | p99 ms | max ms | HTTP p50 / p99 ms | server CPU cores |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in results:
            lines.append(
                f"| {r['offered']} | {r['achieved']:.0f} | {r['ok']} | {r['http_errors']} | "
                f"{r['received']} | {r['lost']} | {r['p50']:.1f} | {r['p90']:.1f} | "
                f"{r['p99']:.1f} | {r['max']:.1f} | {r['http_p50']:.1f} / {r['http_p99']:.1f} | "
                f"{r['cpu_total']:.2f} |"
            )
    hooks = ",".join(args.hooks)
    compare = f" --compare {args.compare}" if args.compare else ""
    lines += [
        "",
        "Latency is measured from just before the webhook POST is written to the moment the "
        "frame carrying that message's marker arrives at an agent socket (whichever agent "
        "rotation chose). *Lost* = answered 200 but no frame within the drain time "
        f"({args.drain:.0f} s); a lost push is still stored and appears after the page's "
        "resync.",
        "",
        f"Reproduce: `.venv/bin/python bench/ingest.py --rates {','.join(map(str, args.rates))} "
        f"--seconds {args.seconds:.0f} --rounds {args.rounds} --hooks {hooks}{compare}`",
        "",
    ]
    path.write_text("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="25,50", help="offered msg/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--baseline-seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3, help="closed-loop rounds (median)")
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--contacts", type=int, default=50, help="new customers per block")
    parser.add_argument("--drain", type=float, default=5.0)
    parser.add_argument(
        "--hooks", default="uvicorn", help="servers for /hooks/: uvicorn, gunicorn or both"
    )
    parser.add_argument("--compare", help="git revision whose code also serves /hooks/")
    parser.add_argument(
        "--latency-for", default="", help="variants measured open-loop (default: --hooks)"
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "ingest-results.md"))
    args = parser.parse_args()
    args.rates = [int(r) for r in args.rates.split(",") if r.strip()]
    args.hooks = [h.strip() for h in args.hooks.split(",") if h.strip()]
    if not set(args.hooks) <= {"uvicorn", "gunicorn"}:
        parser.error("--hooks takes uvicorn and/or gunicorn")
    args.latency_for = [v for v in args.latency_for.split(",") if v] or args.hooks

    workdir = Path(tempfile.mkdtemp(prefix="sapa-bench-"))
    redis_proc, redis_url = with_redis.start_redis()
    port = with_redis.free_port()
    env = server_env(workdir, redis_url, port)
    database = (
        "PostgreSQL (DATABASE_URL)"
        if "postgres" in env["DATABASE_URL"]
        else ("SQLite file (WAL, IMMEDIATE)")
    )
    servers: list[subprocess.Popen] = []
    try:
        print(f"Preparing {database} in {workdir} …", flush=True)
        setup = prepare_database(env, args.agents)
        ws_base = f"http://127.0.0.1:{port}"
        servers.append(start_uvicorn(env, port, args.workers))
        variants: dict[str, str] = {}
        described: dict[str, str] = {}
        if "uvicorn" in args.hooks:
            variants["uvicorn"] = ws_base
            described["uvicorn"] = "/hooks/ on that Uvicorn (ASGI)"
        if "gunicorn" in args.hooks:
            g_port = with_redis.free_port()
            servers.append(start_gunicorn(env, g_port, args.workers))
            variants["gunicorn"] = f"http://127.0.0.1:{g_port}"
            described["gunicorn"] = (
                f"/hooks/ on gunicorn (WSGI), {args.workers} sync workers, beside it"
            )
        if args.compare:
            # Before/after with the same topology: each on its own Uvicorn beside the one that
            # holds the sockets (whose renders are the same code for both).
            head = commit().split()[0]
            rev = export_revision(args.compare, workdir / "compare")
            for label, tree in ((head, ROOT), (rev, workdir / "compare")):
                c_port = with_redis.free_port()
                servers.append(start_uvicorn(env, c_port, args.workers, cwd=tree))
                name = f"own uvicorn @ {label}"
                variants[name] = f"http://127.0.0.1:{c_port}"
                described[name] = (
                    f"/hooks/ on its own Uvicorn ({args.workers} workers) running the code at "
                    f"{label}{' (before)' if label == rev else ''}"
                )
        cpus = [Cpu(server.pid) for server in servers]
        cpu = CpuGroup(cpus)
        print(f"Sockets on {ws_base}; measuring {', '.join(variants)} …", flush=True)
        rounds, latency, extra = asyncio.run(measure(args, variants, ws_base, setup, cpu))
        if extra["closed_early"]:
            print(f"  sockets closed early: {extra['closed_early']}")
        rss = [mib for c in cpus for mib in c.rss_mib()]
        write_report(Path(args.output), args, described, rounds, latency, rss, database)
        print(f"Wrote {args.output}")
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
