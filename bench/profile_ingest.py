#!/usr/bin/env python
"""bench/profile_ingest: where one webhook's time goes, in-process (no sockets, no load).

Single thread, so wall time per message ≈ CPU per message. Starts a private Redis and a
temporary SQLite database (or uses DATABASE_URL), creates one division with agents, then times
the same kind of traffic as bench/ingest.py (300 customers: new chats first, then appends):

- `message_receive` alone (the service), with its ORM query count, new chat vs append;
- the whole webhook request through Django's sync (WSGI) handler and its async (ASGI)
  handler, with the asgiref sync↔async adapter calls counted per request;
- `/healthz` through both handlers (the same-run baseline for the request path);
- the per-socket push render (`chats.live.render_conversation`) one consumer does per message,
  with the tab counts (a new chat) and without (an appended message), in the same run.

    .venv/bin/python bench/profile_ingest.py [--messages 600] [--cprofile wsgi|asgi|service]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("with_redis", ROOT / "scripts" / "with_redis.py")
with_redis = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(with_redis)
_ingest_spec = importlib.util.spec_from_file_location("ingest", ROOT / "bench" / "ingest.py")
ingest = importlib.util.module_from_spec(_ingest_spec)
_ingest_spec.loader.exec_module(ingest)


def setup_django(workdir: Path, redis_url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="bench-only-not-secret",
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        PUBLIC_BASE_URL="http://127.0.0.1:1",
        REDIS_URL=redis_url,
        AXES_ENABLED="false",
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'profile.sqlite3'}")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


class HopCounter:
    """Counts asgiref SyncToAsync / AsyncToSync calls (each is a thread or loop hand-over)."""

    def __init__(self) -> None:
        from asgiref import sync

        self.sync = sync
        self.counts = {"sync_to_async": 0, "async_to_sync": 0}
        self._s2a = sync.SyncToAsync.__call__
        self._a2s = sync.AsyncToSync.__call__

    def __enter__(self):
        counts, s2a, a2s = self.counts, self._s2a, self._a2s

        async def counted_s2a(this, *args, **kwargs):
            counts["sync_to_async"] += 1
            return await s2a(this, *args, **kwargs)

        def counted_a2s(this, *args, **kwargs):
            counts["async_to_sync"] += 1
            return a2s(this, *args, **kwargs)

        self.sync.SyncToAsync.__call__ = counted_s2a
        self.sync.AsyncToSync.__call__ = counted_a2s
        return self

    def __exit__(self, *exc):
        self.sync.SyncToAsync.__call__ = self._s2a
        self.sync.AsyncToSync.__call__ = self._a2s


def timed(label: str, n: int, func, results: dict, profile: cProfile.Profile | None = None):
    start, cpu_start = time.perf_counter(), time.process_time()
    if profile:
        profile.enable()
    out = func()
    if profile:
        profile.disable()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    # CPU time of this process (all threads): the box is shared, so wall time is noisier.
    results[label] = cpu / n * 1000
    print(
        f"  {label:<44} {results[label]:7.2f} ms CPU each ({elapsed / n * 1000:.2f} wall, {n})",
        flush=True,
    )
    return out


def run(args) -> dict:
    from django.db import connection
    from django.test import AsyncClient, Client
    from django.test.utils import CaptureQueriesContext

    from agents.services import agent_create
    from chats import live
    from chats.models import Message
    from chats.services.inbound import message_receive
    from devices_app.gateways.fonnte import webhooks as fonnte
    from devices_app.models import Device
    from divisions.models import Division

    if args.whitenoise_last:
        # Experiment only (not Sapa's order): WhiteNoise is the one sync-only middleware; last
        # in the list, the whole chain runs in sync mode under ASGI (one thread hop in all).
        from django.conf import settings

        chain = [m for m in settings.MIDDLEWARE if "whitenoise" not in m]
        settings.MIDDLEWARE = [*chain, "whitenoise.middleware.WhiteNoiseMiddleware"]
    division = Division.objects.create(name="Bench", online_only=False)
    device = Device.objects.create(number=ingest.DEVICE_NUMBER, name="Bench", division=division)
    agents = [
        agent_create(name=f"Agent {n}", device=device, division=division).agent for n in range(4)
    ]
    url = f"/hooks/fonnte/{device.webhook_key}/incoming"
    n, contacts = args.messages, args.contacts
    results: dict = {}
    profiles = {name: cProfile.Profile() for name in ("service", "wsgi", "asgi")}

    def body(run_id: int, k: int) -> str:
        # Each phase has its own customers, so every phase sees the same mix: the first
        # `contacts` messages open new chats, the rest append to them.
        data = json.loads(ingest.body(run_id, k, contacts))
        data["sender"] = data["pengirim"] = f"62822{run_id:02d}{k % contacts:06d}"
        return json.dumps(data)

    def events(run_id: int):
        return [fonnte.parse_incoming(json.loads(body(run_id, k))) for k in range(n)]

    # 1. The service alone; new chats (first `contacts` messages) and appends counted apart.
    batch = events(1)
    queries = {"new": 0, "append": 0}

    def service():
        for k, event in enumerate(batch):
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as ctx:
                message_receive(device=device, event=event)
            queries["new" if k < contacts else "append"] += len(ctx.captured_queries)

    timed("message_receive (service only)", n, service, results, profiles["service"])
    if args.show_queries:
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            new_chat = json.loads(ingest.body(9, 9_999_999, 10**8))
            message_receive(device=device, event=fonnte.parse_incoming(new_chat))
        for query in ctx.captured_queries:
            print("   ", query["sql"][:160])
    results["queries_new"] = queries["new"] / min(n, contacts)
    results["queries_append"] = queries["append"] / max(1, n - contacts)
    print(
        f"  queries per message: new chat {results['queries_new']:.1f}, "
        f"append {results['queries_append']:.1f}",
        flush=True,
    )

    # 2. The whole request, sync handler (what a WSGI server runs).
    client = Client()
    bodies = [body(2, k) for k in range(n)]

    def wsgi():
        for data in bodies:
            response = client.post(url, data=data, content_type="application/json")
            assert response.status_code == 200, response.status_code

    timed("webhook request, sync handler (WSGI)", n, wsgi, results, profiles["wsgi"])
    timed(
        "/healthz, sync handler (WSGI)",
        n,
        lambda: [client.get("/healthz") for _ in range(n)],
        results,
    )

    # 3. The whole request, async handler (what Uvicorn runs), hops counted.
    aclient = AsyncClient()
    bodies = [body(3, k) for k in range(n)]

    async def asgi_posts():
        for data in bodies:
            response = await aclient.post(url, data=data, content_type="application/json")
            assert response.status_code == 200, response.status_code

    async def asgi_health():
        for _ in range(n):
            await aclient.get("/healthz")

    with HopCounter() as hops:
        timed(
            "webhook request, async handler (ASGI)",
            n,
            lambda: asyncio.run(asgi_posts()),
            results,
            profiles["asgi"],
        )
    results["hops_webhook"] = sum(hops.counts.values()) / n
    with HopCounter() as hops:
        timed("/healthz, async handler (ASGI)", n, lambda: asyncio.run(asgi_health()), results)
    results["hops_healthz"] = sum(hops.counts.values()) / n
    print(
        f"  asgiref adapter calls per request: webhook {results['hops_webhook']:.1f}, "
        f"healthz {results['hops_healthz']:.1f}",
        flush=True,
    )

    # 4. The push render one agent socket does per message (in the consumer, not the request).
    ids = list(
        Message.objects.filter(conversation__agent__isnull=False)
        .order_by("-pk")
        .values_list("pk", "conversation_id", "conversation__agent_id")[:n]
    )
    by_agent = {a.pk: a for a in agents}
    viewers = {
        a.pk: live.Viewer(
            agent_id=a.pk,
            division_id=division.pk,
            device_id=device.pk,
            language="id",
            time_zone="Asia/Jakarta",
        )
        for a in by_agent.values()
    }

    def render(with_counts: bool):
        for message_id, conversation_id, agent_id in ids:
            live.render_conversation(
                viewers[agent_id],
                conversation_id=conversation_id,
                message_id=message_id,
                with_counts=with_counts,
            )

    # Both variants in the same run: a new chat's push carries the tab counts, an appended
    # message's does not (chats.consumers.AgentConsumer.message_created).
    for _ in range(2):
        timed("push render, new chat (with tab counts)", len(ids), lambda: render(True), results)
        timed("push render, append (no tab counts)", len(ids), lambda: render(False), results)

    if args.cprofile:
        out = io.StringIO()
        stats = pstats.Stats(profiles[args.cprofile], stream=out)
        stats.sort_stats("cumulative").print_stats(45)
        print(out.getvalue())
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--cprofile", choices=["service", "wsgi", "asgi"])
    parser.add_argument("--show-queries", action="store_true", help="list one new chat's SQL")
    parser.add_argument(
        "--whitenoise-last", action="store_true", help="experiment: WhiteNoise last in MIDDLEWARE"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sapa-profile-"))
    redis_proc, redis_url = with_redis.start_redis()
    try:
        setup_django(workdir, redis_url)
        run(args)
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
