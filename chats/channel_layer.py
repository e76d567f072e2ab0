"""The pub/sub channel layer, plus the one thing it lacks: telling consumers about a reconnect.

After Redis restarts, redis-py resubscribes by itself while the browser sockets stay open, so
nothing tells a page it may have missed pushes (docs/ARCHITECTURE.md "Known traps"). channels-redis
4.3 accepts
`on_reconnect` but never calls it. This subclass hooks redis-py's own reconnect callback and
puts a `layer.reconnected` event on every local channel; the consumer answers it by closing
with 1012 ("service restart"), which the page's ws extension reconnects after, and every
(re)connect resynchronizes the page from the database.
"""

from __future__ import annotations

import logging

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)

logger = logging.getLogger(__name__)

RECONNECTED_EVENT = {"type": "layer.reconnected"}


class _ReconnectWatcher:
    """Wraps PubSub.on_connect. redis-py keeps connect callbacks as weak *methods*, so this is
    an object with a method, kept alive by the shard."""

    def __init__(self, pubsub, layer) -> None:
        self._original = pubsub.on_connect
        self._layer = layer
        self.calls = 0

    async def on_connect(self, connection) -> None:
        await self._original(connection)
        # PubSub registers the callback after its connection is first established, so every
        # call is a reconnect (redis-py has already resubscribed our channels at this point).
        self.calls += 1
        self._layer.announce_reconnect()


class _Shard(RedisSingleShardConnection):
    def _ensure_redis(self):
        fresh = self._redis is None
        super()._ensure_redis()
        if fresh:
            self._watcher = _ReconnectWatcher(self._pubsub, self.channel_layer)
            # PubSub registers `self.on_connect` with its connection when it first connects;
            # an instance attribute set before that is what gets registered.
            self._pubsub.on_connect = self._watcher.on_connect


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]

    def announce_reconnect(self) -> None:
        logger.warning(
            "channel layer reconnected to Redis: telling %d sockets to resync", len(self.channels)
        )
        payload = self.channel_layer.serialize(RECONNECTED_EVENT)
        for queue in self.channels.values():
            queue.put_nowait(payload)


class ResyncingPubSubChannelLayer(RedisPubSubChannelLayer):
    def _get_layer(self):
        import asyncio

        from channels_redis.utils import _wrap_close

        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer
