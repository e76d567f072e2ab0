"""WebSocket interfaces. Groups are the authorization boundary: a socket joins, once at connect,
only the groups its user may see (docs/ARCHITECTURE.md "Realtime"). Each handler renders for its
own user
through `chats.live`, which re-checks permission on every push."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

from asgiref.sync import sync_to_async
from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections
from redis import RedisError

from agents import presence
from agents.access import access_of, access_read, access_verdict
from agents.selectors import agent_get_for_user
from agents.timezones import agent_time_zone
from realtime import publisher as realtime

from . import live
from .consumers_collision import CollisionGuardMixin
from .services.assignment import queue_drain

logger = logging.getLogger(__name__)


def rendered(func):
    """Run a `chats.live` renderer in the thread pool. Channels' default runs every sync call of
    a process on one thread, where each push's render would queue behind the webhook views;
    renders only read, so they may run beside them.

    The connection is closed inside the call: the render runs in a copy of the caller's context,
    where Django keeps the connection it opens, and the close that DatabaseSyncToAsync does
    around the call does not see it. Left open, each pool thread would hold one of the
    PostgreSQL pool's connections until it exits, and its end would not return it."""

    @functools.wraps(func)
    def render_and_close(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return DatabaseSyncToAsync(render_and_close, thread_sensitive=False)


# Close codes in the 4000 range are ours; the page reads them to stop reconnecting.
CLOSE_NOT_ALLOWED = 4403
CLOSE_SESSION_ENDED = 4401
# "Service restart": htmx's ws extension reconnects after it, and every (re)connect makes the
# page resynchronize from the database.
CLOSE_RESYNC = 1012
# "Try again later": the channel layer (Redis) is unreachable, so no push could reach this
# socket; the ws extension reconnects with backoff (docs/RELIABILITY.md).
CLOSE_TRY_AGAIN_LATER = 1013


class _GroupsConsumer(AsyncWebsocketConsumer):
    """Joins a list of groups at connect and leaves exactly those at disconnect."""

    joined: list[str]

    async def __call__(self, scope, receive, send) -> None:
        # disconnect() alone does not end a connection's state: when the browser goes while a
        # push is being sent, Uvicorn ends the application with ClientDisconnected from that
        # send and swallows it, and `websocket.disconnect` is never dispatched. Whatever way
        # the connection ends (that, a handler's error, cancellation), `finally` runs it once
        # (docs/RELIABILITY.md, "Presence and revocation").
        try:
            await super().__call__(scope, receive, send)
        except (RedisError, OSError):
            if hasattr(self, "channel_name"):
                raise
            # Channels asks the layer for this socket's channel before connect() runs: with
            # Redis down that fails, and the handshake would answer 500. Say "try again later".
            logger.warning("socket refused: the channel layer is unreachable", exc_info=True)
            if (await receive())["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
        finally:
            try:
                await self.disconnect(1006)
            except Exception:
                logger.warning("socket cleanup failed", exc_info=True)

    async def join(self, groups: list[str]) -> None:
        self.joined = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        """Idempotent: runs on a clean close and again when the application ends."""
        # Groups added in connect() are not discarded by Channels itself.
        groups, self.joined = getattr(self, "joined", []), []
        for group in groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def session_ended(self, event: dict) -> None:
        await self.close(code=CLOSE_SESSION_ENDED)

    async def session_regroup(self, event: dict) -> None:
        # The agent moved to another division or device: the groups joined at connect are no
        # longer theirs. Reconnecting joins the right ones and resynchronizes the page.
        await self.close(code=CLOSE_RESYNC)

    async def layer_reconnected(self, event: dict) -> None:
        # Redis came back: pushes sent while it was away are gone. Closing makes the page
        # reconnect and resynchronize from the database (chats.channel_layer).
        await self.close(code=CLOSE_RESYNC)

    async def send_html(self, html: str) -> None:
        if html.strip():
            await self.send(text_data=html)


class AgentConsumer(CollisionGuardMixin, _GroupsConsumer):
    async def connect(self) -> None:
        self.agent = await database_sync_to_async(agent_get_for_user)(user=self.scope.get("user"))
        if self.agent is None:
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.viewer = live.Viewer(
            agent_id=self.agent.pk,
            division_id=self.agent.division_id,
            device_id=self.agent.device_id,
            language=live.language_from_scope(self.scope),
            # Read once: a change of zone closes the agent's sockets (agents.access).
            time_zone=agent_time_zone(self.agent),
        )
        await self.join(
            [
                realtime.agent_group(self.agent.pk),
                realtime.division_queue_group(self.agent.division_id),
                realtime.device_group(self.agent.device_id),
            ]
        )
        await self.accept()
        await self.presence_start()

    async def disconnect(self, code: int) -> None:
        await self.presence_stop()
        if getattr(self, "agent", None) is not None:
            await self.collision_leave()
        await super().disconnect(code)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        # What the page sends: the collision guard's reports (chats.consumers_collision).
        await self.collision_receive(text_data)

    async def session_ended(self, event: dict) -> None:
        # Access ended (agents.access): presence ends now, not after the grace period.
        await self.presence_stop(grace=False)
        await super().session_ended(event)

    # --- Presence heartbeat and queue drain (rotation issue) -----------------------------------
    # Redis-only calls run off the shared sync thread (thread_sensitive=False): they touch no
    # ORM state and must not queue behind database work.
    async def presence_start(self) -> None:
        self.presence_conn = presence.new_connection_id()
        # What this socket was granted; the heartbeat re-reads it (agents.access).
        self.access = access_of(self.agent)
        try:
            await sync_to_async(presence.presence_connect, thread_sensitive=False)(
                agent_id=self.agent.pk, conn=self.presence_conn
            )
        except Exception:
            logger.warning("presence connect failed for agent %s", self.agent.pk, exc_info=True)
        self.presence_task = asyncio.create_task(self.presence_heartbeat())
        # The agent may have just become eligible: hand them (or a colleague) waiting chats.
        try:
            agent = self.agent
            await database_sync_to_async(lambda: queue_drain(division=agent.division))()
        except Exception:
            logger.warning("queue drain on connect failed", exc_info=True)

    async def presence_heartbeat(self) -> None:
        # Runs only as long as the consumer: presence_stop cancels it on every way out
        # (_GroupsConsumer.__call__), so no key is refreshed for a socket that is gone.
        loop = asyncio.get_running_loop()
        recheck_at = loop.time() + settings.AGENT_ACCESS_RECHECK_SECONDS
        while True:
            await asyncio.sleep(settings.PRESENCE_HEARTBEAT_SECONDS)
            if loop.time() >= recheck_at:
                recheck_at = loop.time() + settings.AGENT_ACCESS_RECHECK_SECONDS
                if await self.access_lost():
                    return
            try:
                await sync_to_async(presence.presence_heartbeat, thread_sensitive=False)(
                    agent_id=self.agent.pk, conn=self.presence_conn
                )
            except Exception:
                # The key expires if this keeps failing: the agent shows offline, as they should
                # when we cannot vouch for them.
                logger.warning("presence heartbeat failed", exc_info=True)

    async def access_lost(self) -> bool:
        """The net under changes no signal reported (agents.access): re-read the agent's access
        and close the socket when it ended (for good) or moved (to reconnect)."""
        try:
            now = await database_sync_to_async(access_read)(agent_ids=[self.agent.pk])
        except Exception:
            logger.warning("access recheck failed", exc_info=True)
            return False
        verdict = access_verdict(before=self.access, now=now.get(self.agent.pk))
        if verdict == "kept":
            return False
        if verdict == "revoked":
            await self.presence_end_now()
            await self.close(code=CLOSE_SESSION_ENDED)
        else:
            await self.close(code=CLOSE_RESYNC)
        return True

    async def presence_end_now(self) -> None:
        self.presence_task = None  # called from the heartbeat itself, which then returns
        await self._presence_disconnect(grace=False)

    async def presence_stop(self, *, grace: bool = True) -> None:
        task = getattr(self, "presence_task", None)
        if task is None:
            return
        self.presence_task = None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await self._presence_disconnect(grace=grace)

    async def _presence_disconnect(self, *, grace: bool) -> None:
        try:
            await sync_to_async(presence.presence_disconnect, thread_sensitive=False)(
                agent_id=self.agent.pk, conn=self.presence_conn, grace=grace
            )
        except Exception:
            logger.warning("presence disconnect failed", exc_info=True)

    # --- end of presence -----------------------------------------------------------------------

    async def _conversation(
        self, event: dict, *, message_id=None, signal: str = "", with_counts: bool = True
    ) -> None:
        conversation_id = event.get("conversation_id")
        if not isinstance(conversation_id, int):
            return
        html = await rendered(live.render_conversation)(
            self.viewer,
            conversation_id=conversation_id,
            message_id=message_id,
            signal=signal,
            with_counts=with_counts,
        )
        await self.send_html(html)

    async def message_created(self, event: realtime.MessageCreated) -> None:
        # Every new message is a candidate signal; the render keeps only a customer's message
        # in a chat of this agent's.
        new_chat = bool(event.get("new_chat"))
        await self._conversation(
            event,
            message_id=event["message_id"],
            signal=live.SIGNAL_NEW_CHAT if new_chat else live.SIGNAL_MESSAGE,
            # An appended message moves no chat between tabs: no counts to push.
            with_counts=new_chat,
        )

    async def message_status_changed(self, event: realtime.MessageStatusChanged) -> None:
        html = await rendered(live.render_message_status)(
            self.viewer, message_id=event["message_id"]
        )
        await self.send_html(html)

    async def message_updated(self, event: realtime.MessageUpdated) -> None:
        html = await rendered(live.render_message_updated)(
            self.viewer, message_id=event["message_id"]
        )
        await self.send_html(html)

    async def conversation_assigned(self, event: realtime.ConversationAssigned) -> None:
        # A chat handed to this agent (queue drain, transfer) is news to them.
        mine = event.get("agent_id") == self.viewer.agent_id
        await self._conversation(event, signal=live.SIGNAL_ASSIGNED if mine else "")

    async def conversation_queued(self, event: realtime.ConversationQueued) -> None:
        await self._conversation(event, signal=live.SIGNAL_NEW_CHAT)

    async def conversation_updated(self, event: realtime.ConversationUpdated) -> None:
        await self._conversation(event)

    async def conversation_taken(self, event: realtime.ConversationTaken) -> None:
        await self._conversation(event)

    async def conversation_removed(self, event: realtime.ConversationRemoved) -> None:
        await self._conversation(event)

    async def device_status_changed(self, event: realtime.DeviceStatusChanged) -> None:
        # The same change reaches a socket through each group that concerns it (its device,
        # its division's queue, its agent): render it once.
        change_id = event.get("change_id")
        if change_id is not None:
            if change_id == getattr(self, "last_device_change", None):
                return
            self.last_device_change = change_id
        html = await rendered(live.render_device_banner)(self.viewer, device_id=event["device_id"])
        await self.send_html(html)

    async def presence_changed(self, event: dict) -> None:
        # Presence is shown on the staff board, not in an agent's own workspace.
        return None
