"""The beat tasks run in a real Celery worker (a separate process on the real Redis broker)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from chats.models import Conversation
from chats.tasks.assignment import queue_drain_task
from realtime import publisher as realtime
from tests.factories import DivisionFactory

from .helpers import REPO, child_env, make_agents, new_conversation

pytestmark = pytest.mark.django_db(transaction=True)


def setup():
    division = DivisionFactory(online_only=False)
    (agent,) = make_agents(division, 1)
    conversation = new_conversation(division)
    return agent, conversation


async def test_the_drain_task_assigns_and_pushes_from_a_celery_worker():
    agent, conversation = await database_sync_to_async(setup)()
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(realtime.agent_group(agent.pk), channel)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        env=child_env(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        await database_sync_to_async(queue_drain_task.delay)()
        event = await asyncio.wait_for(layer.receive(channel), timeout=60)
        assert event == {
            "type": "conversation.assigned",
            "conversation_id": conversation.pk,
            "agent_id": agent.pk,
        }
        row = await database_sync_to_async(Conversation.objects.get)(pk=conversation.pk)
        assert (row.agent_id, row.status) == (agent.pk, "open")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
