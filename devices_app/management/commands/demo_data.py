"""Demo data for a first run: devices, divisions, agents with fixed tokens, replies, a poll,
labels.

Idempotent: a second run finds what the first made. Refuses to run when DEBUG is off, because
its tokens and password are printed in the README for anyone to use.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from agents.models import Agent, User
from agents.services import agent_create
from agents.tokens import token_hash
from chats.models import Label
from divisions.models import Division
from templates_app.models import Poll, QuickReply

from ...models import Device

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "sapa-admin"

DIVISIONS = [
    {"name": "Sales", "rotation_mode": Division.RotationMode.FULL},
    {"name": "Support", "rotation_mode": Division.RotationMode.PARTIAL},
]
DEVICES = [
    {"number": "6281100000001", "name": "Sapa Sales (sandbox)", "division": "Sales"},
    {"number": "6281100000002", "name": "Sapa Support (sandbox)", "division": "Support"},
]
AGENTS = [
    {"name": "Ani", "device": "6281100000001", "division": "Sales", "token": "demo-ani-token"},
    {"name": "Budi", "device": "6281100000001", "division": "Sales", "token": "demo-budi-token"},
    {
        "name": "Citra",
        "device": "6281100000002",
        "division": "Support",
        "token": "demo-citra-token",
    },
    {"name": "Dodi", "device": "6281100000002", "division": "Support", "token": "demo-dodi-token"},
]
QUICK_REPLIES = [
    {
        "shortcut": "hello",
        "title": "Greeting",
        "text": "Hello {name}, this is {agent} from {device}. How can I help?",
    },
    {
        "shortcut": "thanks",
        "title": "Thanks",
        "text": "Thank you {name}! Is there anything else I can do?",
    },
    {
        "shortcut": "office",
        "title": "Office location",
        "text": "Our office is here, {name}. Open Monday to Friday, 9:00–17:00.",
        "location_lat": "-6.175392",
        "location_lng": "106.827153",
    },
]
LABELS = [
    {"name": "VIP", "color": Label.Color.PURPLE},
    {"name": "Complaint", "color": Label.Color.RED},
    {"name": "Order", "color": Label.Color.BLUE},
    {"name": "Follow up", "color": Label.Color.YELLOW},
]
POLL = {"name": "How was our service today?", "choices": ["Excellent", "Good", "Could be better"]}


class Command(BaseCommand):
    help = "Load demo devices, divisions, agents (fixed tokens), quick replies, a poll, labels."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "Demo data has public tokens and passwords: it loads only with DJANGO_DEBUG on."
            )
        with transaction.atomic():
            self._load()
        self._print_logins()

    def _load(self) -> None:
        divisions = {
            spec["name"]: Division.objects.get_or_create(name=spec["name"], defaults=spec)[0]
            for spec in DIVISIONS
        }
        devices = {}
        for spec in DEVICES:
            devices[spec["number"]] = Device.objects.get_or_create(
                number=spec["number"],
                defaults={
                    "name": spec["name"],
                    "gateway": Device.Gateway.SANDBOX,
                    "gateway_token": "sandbox-token-" + spec["number"][-4:],
                    "division": divisions[spec["division"]],
                    "status": Device.Status.CONNECTED,
                },
            )[0]
        for spec in AGENTS:
            agent = Agent.objects.filter(token_hash=token_hash(spec["token"])).first()
            if agent is None:
                agent_create(
                    name=spec["name"],
                    device=devices[spec["device"]],
                    division=divisions[spec["division"]],
                    token=spec["token"],
                )
        for spec in QUICK_REPLIES:
            QuickReply.objects.get_or_create(
                shortcut=spec["shortcut"], division=None, defaults=spec
            )
        Poll.objects.get_or_create(name=POLL["name"], defaults=POLL)
        for spec in LABELS:
            Label.objects.get_or_create(name__iexact=spec["name"], defaults=spec)
        if not User.objects.filter(username=ADMIN_USERNAME).exists():
            User.objects.create_superuser(ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD)

    def _print_logins(self) -> None:
        base = settings.PUBLIC_BASE_URL
        lines = [
            "",
            f"Sapa demo is ready at {base}",
            f"  Admin:  {base}/admin/   user {ADMIN_USERNAME!r}, password {ADMIN_PASSWORD!r}",
            f"  Agents: {base}/login    (device number + token)",
        ]
        lines += [
            f"    {a['name']:<6} {a['division']:<8} device {a['device']}  token {a['token']}"
            for a in AGENTS
        ]
        if settings.SANDBOX_ENABLED:
            lines.append(f"  Customer simulator: {base}/sandbox/")
        self.stdout.write("\n".join(lines) + "\n")
