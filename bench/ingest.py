#!/usr/bin/env python
"""bench/ingest: Fonnte webhook → stored → pushed to the agent's socket, measured end to end.

Starts its own private Redis, a temporary SQLite database (or uses DATABASE_URL, e.g. a
PostgreSQL database you name), and Uvicorn with 2 worker processes serving Sapa; logs in the
agents of one division and holds their WebSockets; then

1. throughput: closed-loop, CONCURRENCY clients POST webhooks as fast as they are answered for
   a fixed time → sustained stored messages per second;
2. latency: open-loop at fixed offered rates (message k is sent at start + k/rate whether or
   not earlier ones were answered, so a slow server cannot hide its backlog); each message's
   marker is stamped at send and matched in the frame that reaches an agent socket; after a
   drain, messages answered 200 but never pushed count as lost.

Writes bench/ingest-results.md. Loopback only; every loop is bounded in count and time.

    .venv/bin/python bench/ingest.py [--rates 50,100,200] [--seconds 10] [--agents 4]
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


def start_uvicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    uvicorn = shutil.which("uvicorn", path=str(Path(PYTHON).parent)) or "uvicorn"
    proc = subprocess.Popen(
        [
            uvicorn,
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    sys.exit("uvicorn did not answer /healthz within 30 s")


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
    sender = f"628210{k % contacts:07d}"
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
            "name": f"Customer {k % contacts}",
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


async def throughput(url: str, run: int, seconds: float, concurrency: int, contacts: int):
    sent = ok = errors = 0
    stop = time.perf_counter() + seconds
    counter = iter(range(10_000_000))

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal sent, ok, errors
        while time.perf_counter() < stop:
            k = next(counter)
            sent += 1
            try:
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


async def measure(args, base: str, setup: dict, cpu: Cpu) -> tuple[dict, list[dict], dict]:
    receiver = Receiver()
    sockets = []
    listeners = []
    ws_base = base.replace("http://", "ws://")
    for token in setup["tokens"]:
        cookie = await login(base, token)
        ws = await websockets.connect(
            f"{ws_base}/ws/agent/",
            additional_headers={"Cookie": cookie, "Origin": base},
            max_size=2**22,
        )
        sockets.append(ws)
        listeners.append(asyncio.create_task(receiver.listen(ws)))
    url = f"{base}/hooks/fonnte/{setup['key']}/incoming"

    await throughput(url, 1, 2, args.concurrency, args.contacts)  # warm-up
    before = cpu.sample()
    started = time.perf_counter()
    closed = await throughput(url, 2, args.seconds, args.concurrency, args.contacts)
    elapsed = time.perf_counter() - started
    after = cpu.sample()
    closed["cpu"] = {pid: (after.get(pid, 0) - before.get(pid, 0)) / elapsed for pid in after}
    await asyncio.sleep(args.drain)

    results = []
    for index, rate in enumerate(args.rates):
        before = cpu.sample()
        started = time.perf_counter()
        result = await open_loop(
            url, receiver, 10 + index, rate, args.seconds, args.contacts, args.drain
        )
        elapsed = time.perf_counter() - started
        after = cpu.sample()
        result["cpu_total"] = sum(after.get(p, 0) - before.get(p, 0) for p in after) / elapsed
        results.append(result)
        print(
            f"  {rate:>4}/s offered: achieved {result['achieved']:.0f}/s, "
            f"{result['ok']} ok, {result['http_errors']} HTTP errors, "
            f"{result['received']} pushed, {result['lost']} lost, "
            f"p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms",
            flush=True,
        )
    for ws in sockets:
        await ws.close()
    for task in listeners:
        task.cancel()
    return closed, results, {"frames": receiver.frames, "closed_early": receiver.closed}


def write_report(
    path: Path, args, closed: dict, results: list[dict], cpu_rss: list[float], database: str
) -> None:
    lines = [
        "# bench/ingest results",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        f"- Commit: {commit()}",
        f"- Server: Uvicorn, {args.workers} worker processes, `DJANGO_DEBUG=false`; database: "
        f"{database}; channel layer: Sapa's RedisPubSubChannelLayer subclass on a private "
        f"Redis; {args.agents} agent sockets held open; {args.contacts} distinct customers "
        "(first messages open and assign a conversation, later ones append).",
        "- The load generator (this script, one asyncio process) shares the same CPUs as the "
        "server: figures are for the whole box, not the server alone.",
        "",
        f"## Sustained throughput (closed loop, {args.concurrency} concurrent clients, "
        f"{args.seconds:.0f} s)",
        "",
        f"- **{closed['rate']:.0f} webhook messages/s stored and answered 200** "
        f"({closed['ok']} ok, {closed['errors']} errors)",
        "- Server CPU during the run (cores busy, per process): "
        + ", ".join(f"{v:.2f}" for v in closed["cpu"].values()),
        f"- Server RSS after the run (MiB, per process): {', '.join(map(str, cpu_rss))}",
        "",
        f"## Webhook POST → frame at the agent's socket (open loop, {args.seconds:.0f} s per rate)",
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
    lines += [
        "",
        "Latency is measured from just before the webhook POST is written to the moment the "
        "frame carrying that message's marker arrives at an agent socket (whichever agent "
        "rotation chose). *Lost* = answered 200 but no frame within the drain time "
        f"({args.drain:.0f} s); a lost push is still stored and appears after the page's "
        "resync.",
        "",
        f"Reproduce: `.venv/bin/python bench/ingest.py --rates {','.join(map(str, args.rates))} "
        f"--seconds {args.seconds:.0f} --agents {args.agents}`",
        "",
    ]
    path.write_text("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="50,100,200", help="offered msg/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--drain", type=float, default=5.0)
    parser.add_argument("--output", default=str(ROOT / "bench" / "ingest-results.md"))
    args = parser.parse_args()
    args.rates = [int(r) for r in args.rates.split(",") if r.strip()]

    workdir = Path(tempfile.mkdtemp(prefix="sapa-bench-"))
    redis_proc, redis_url = with_redis.start_redis()
    port = with_redis.free_port()
    env = server_env(workdir, redis_url, port)
    database = (
        "PostgreSQL (DATABASE_URL)"
        if "postgres" in env["DATABASE_URL"]
        else ("SQLite file (WAL, IMMEDIATE)")
    )
    server = None
    try:
        print(f"Preparing {database} in {workdir} …", flush=True)
        setup = prepare_database(env, args.agents)
        server = start_uvicorn(env, port, args.workers)
        cpu = Cpu(server.pid)
        base = f"http://127.0.0.1:{port}"
        print(f"Serving on {base}; measuring …", flush=True)
        closed, results, extra = asyncio.run(measure(args, base, setup, cpu))
        print(f"  closed loop: {closed['rate']:.0f} msg/s ({closed['errors']} errors)")
        if extra["closed_early"]:
            print(f"  sockets closed early: {extra['closed_early']}")
        write_report(Path(args.output), args, closed, results, cpu.rss_mib(), database)
        print(f"Wrote {args.output}")
    finally:
        if server is not None:
            server.terminate()
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
