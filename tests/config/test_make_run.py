"""`make run`, `make manage` and `make shell` as a person uses them, in fresh processes.

`make run` runs in a pseudo-terminal, as from a shell; a real Chromium does what the README's
first run says (an agent signs in, a customer writes from the sandbox page, the agent replies);
then Ctrl-C is typed into the terminal (which sends SIGINT to its foreground process group, as
for a person). The console must show those events and little else, and Ctrl-C must end
everything with status 0 and nothing that reads like an error. Each run gets its own SQLite
file, port and private Redis.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.gateway_server import free_port
from tests.workers import wait_until

ROOT = Path(__file__).resolve().parents[2]
# What the suite sets that a person's shell does not.
_SUITE_ONLY = ("REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DJANGO_DEBUG")


def person_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SUITE_ONLY and k != "DATABASE_URL"}
    env.pop("MAKEFLAGS", None)
    env.pop("MAKELEVEL", None)
    return {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **extra}


class Terminal:
    """A command on a pseudo-terminal, as its session's foreground job."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        self.master = master
        self.output = bytearray()
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            # The new session's controlling terminal is this one.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # the last process holding the terminal has gone
                    return
                if not data:
                    return
                self.output.extend(data)
            elif self.proc.poll() is not None:
                return

    @property
    def text(self) -> str:
        return re.sub(r"\x1b\[[0-9;]*m", "", self.output.decode(errors="replace"))

    def ctrl_c(self) -> None:
        os.write(self.master, b"\x03")

    def wait(self, timeout: float) -> int:
        status = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return status

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=30)
        os.close(self.master)


@pytest.fixture
def make_run(tmp_path) -> Iterator[tuple[Terminal, str, dict[str, str]]]:
    port = free_port()
    # The send sweep every second: it acts once (below), then has nothing to do many times.
    env = person_env(tmp_path, SEND_SWEEP_INTERVAL="1")
    terminal = Terminal(["make", "run", f"PORT={port}"], env)
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            assert terminal.proc.poll() is None, terminal.text
            return "celery@" in terminal.text and " ready." in terminal.text

        wait_until(up, timeout=300, what="make run to start")
        wait_until(lambda: _answers(base), timeout=60, what="the web process")
        yield terminal, base, env
    finally:
        terminal.kill()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


# One line of Python for `manage.py shell -c`: a reply whose send task was lost an hour ago.
STUCK_REPLY = "; ".join(
    [
        "from datetime import timedelta",
        "from django.conf import settings",
        "from django.utils import timezone",
        "from agents.models import Agent",
        "from chats.models import Contact, Conversation, Message",
        "ani = Agent.objects.get(name='Ani')",
        "contact = Contact.objects.create(device=ani.device, address='6281299990000')",
        "conversation = Conversation.objects.create(contact=contact, device=ani.device, "
        "division=ani.division, agent=ani, status='open')",
        "message = Message.objects.create(conversation=conversation, device=ani.device, "
        "direction='out', sender_agent=ani, text='Halo', status='queued', "
        "next_attempt_at=timezone.now() - timedelta(hours=1))",
        "print('message', message.pk, 'redis', settings.REDIS_URL)",
    ]
)


def first_run_in_a_browser(base: str) -> str:
    """What the README's first run says to do: an agent signs in, a customer writes from the
    sandbox page, the agent replies and sees it read. Returns the reply's message id."""
    expect.set_options(timeout=60_000)  # a bound for slow machines, not a timing assertion
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            agent = browser.new_page()
            agent.goto(base + "/login")
            agent.fill("input[name=device_number]", "6281100000001")
            agent.fill("input[name=token]", "demo-ani-token")
            agent.click("button[type=submit]")
            expect(agent.locator("#connection-status")).to_have_attribute("data-state", "open")

            customer = browser.new_page()
            customer.goto(base + "/sandbox/")
            customer.fill("#sandbox-number", "081234567890")
            customer.fill("#sandbox-name", "Rama")
            customer.click("button[type=submit]")
            customer.fill("#sandbox-text", "Halo, ada paket?")
            customer.click(".sandbox-compose button[type=submit]")

            row = agent.locator("#conversation-list .conversation-item", has_text="Rama")
            row.locator(".conversation-link").click()
            box = agent.locator("textarea[data-enter-sends]")
            box.fill("Halo Rama, ada.")
            box.press("Enter")
            bubble = agent.locator("#thread-pane .message-out", has_text="Halo Rama")
            reply_id = bubble.get_attribute("data-message-id")
            status = agent.locator(f"#message-{reply_id}-status")
            expect(status).to_have_attribute("data-status", "read")
            expect(customer.locator(".sandbox-out", has_text="Halo Rama")).to_have_count(1)
            return reply_id
        finally:
            browser.close()


def test_make_run_shows_the_events_and_stops_cleanly_on_ctrl_c(make_run):
    terminal, base, env = make_run
    reply_id = first_run_in_a_browser(base)
    events = [
        "message 1 received in conversation 1 (new chat)",
        "conversation 1 assigned to Ani (agent 1)",
        *(
            f"message {reply_id} {event}"
            for event in ("queued by agent 1", "sent (attempt 1)", "delivered", "read")
        ),
    ]
    # honcho relays each process's output: the lines come a moment after the browser saw it.
    wait_until(lambda: all(e in terminal.text for e in events), what="the events on the console")

    # A reply whose send task was lost, written through `make manage` beside the running app.
    shell = subprocess.run(
        ["make", "manage", f'ARGS=shell -c "{STUCK_REPLY}"'],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert shell.returncode == 0, shell.stderr
    message_id, redis_url = re.search(r"message (\d+) redis (\S+)", shell.stdout).groups()
    # `make manage` used the Redis of the running `make run`.
    assert f"Started a private Redis at {redis_url}" in terminal.text

    # The sweep re-enqueues it, the worker sends it through the sandbox, the ticks come back.
    wait_until(
        lambda: f"message {message_id} read" in terminal.text,
        timeout=120,
        what="the reply to be read",
    )
    assert httpx.get(f"{base}/favicon.ico").status_code == 302

    terminal.ctrl_c()
    status = terminal.wait(timeout=120)
    console = terminal.text

    assert status == 0, console
    assert "Traceback" not in console
    assert "Error" not in console  # make's "Error 130", Redis's ConnectionError
    for process in ("web.1", "worker.1", "beat.1"):
        assert f"{process} stopped (rc=0)" in console
    # Quiet: the events, each once, and no line per periodic task or per request.
    for event in events:
        assert console.count(event) == 1, event
    assert console.count("send sweep: 0 unconfirmed, 1 re-enqueued") == 1
    assert console.count(f"message {message_id} sent (attempt 1)") == 1
    noises = ("lifespan", "Task chats.", "Sending due task", "HTTP Request:", '"GET /favicon.ico')
    for noise in (*noises, "Not Found"):
        assert noise not in console, noise


def test_make_manage_and_make_shell_use_the_development_environment(tmp_path):
    env = person_env(tmp_path)
    # Outside make, Django says what to do instead of only what is missing.
    bare = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bare.returncode != 0
    assert "make manage ARGS=" in bare.stderr

    check = subprocess.run(
        ["make", "manage", "ARGS=check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stderr
    assert "System check identified no issues" in check.stdout

    script = tmp_path / "shell-input.py"
    script.write_text(
        "from django.conf import settings\n"
        "import redis\n"
        "print('debug', settings.DEBUG, 'redis', redis.Redis.from_url(settings.REDIS_URL).ping())\n"
    )
    with script.open() as stdin:
        shell = subprocess.run(
            ["make", "shell"],
            cwd=ROOT,
            env=env,
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert shell.returncode == 0, shell.stderr
    assert "debug True redis True" in shell.stdout


def test_ctrl_c_in_a_terminal_reaches_the_command_and_not_make(tmp_path):
    """scripts/with_redis.py alone, with a command that stops on SIGINT like honcho (130)."""
    command = (
        "import signal, sys, time; "
        "signal.signal(signal.SIGINT, lambda *a: sys.exit(130)); "
        "print('waiting', flush=True); time.sleep(120)"
    )
    terminal = Terminal(
        [sys.executable, "scripts/with_redis.py", "--", sys.executable, "-c", command],
        person_env(tmp_path),
    )
    try:
        wait_until(lambda: "waiting" in terminal.text, timeout=60, what="the command to start")
        terminal.ctrl_c()
        assert terminal.wait(timeout=60) == 0, terminal.text
        assert "Stopped." in terminal.text
    finally:
        terminal.kill()
