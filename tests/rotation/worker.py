"""A worker process for the concurrency tests: one real OS process against the test database.

    worker.py assign <division id> <device id> <worker number> <count>
    worker.py drain <division id> <batch>

Prints "ready", waits for "go" on stdin so all workers start together, then works.
"""

from __future__ import annotations

import os
import sys

import django


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
    django.setup()
    from django.db import transaction

    from chats.models import Contact, Conversation
    from chats.services.assignment import conversation_assign, queue_drain
    from divisions.models import Division
    from rotation.models import AssignmentLog

    print("ready", flush=True)
    sys.stdin.readline()
    if argv[0] == "assign":
        division_id, device_id, worker, count = (int(x) for x in argv[1:5])
        for i in range(count):
            # As the inbound webhook does it: store the conversation, assign, one transaction.
            with transaction.atomic():
                contact = Contact.objects.create(
                    device_id=device_id, address=f"629{worker:03d}{i:07d}"
                )
                conversation = Conversation.objects.create(
                    contact=contact, device_id=device_id, division_id=division_id
                )
                agent = conversation_assign(
                    conversation=conversation, trigger=AssignmentLog.Trigger.NEW_CHAT
                )
                assert agent is not None
    elif argv[0] == "drain":
        division = Division.objects.get(pk=int(argv[1]))
        batch = int(argv[2])
        total = 0
        while True:
            assigned = queue_drain(division=division, limit=batch)
            total += len(assigned)
            if (
                not assigned
                and not Conversation.objects.filter(
                    division=division, status=Conversation.Status.QUEUED
                ).exists()
            ):
                break
        print(total, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
