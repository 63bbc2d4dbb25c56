"""Real-time fan-out of chat events to WebSockets: in-process by default, Redis pub/sub in production.

Why a hub: the customer's socket, the agent console and the gateway code that stores messages are
different tasks (and, in production, possibly different processes). Everyone publishes to a channel
(``conversation:{id}``, ``agents``) and whoever holds a socket subscribes to it. With ``redis_url`` set,
every event goes through Redis, so two app processes deliver to each other's sockets.

Usage::

    async with hub.subscribe(f"conversation:{cid}") as events:   # registered before the block runs
        async for event in events:
            ...

``subscribe()`` can also be iterated directly (``async for event in hub.subscribe(ch)``); it then
registers on the first iteration.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger(__name__)

# A subscriber that stops reading must not make the publisher's memory grow without bound.
QUEUE_LIMIT = 1000


class Subscription:
    """One subscriber's queue of events on one channel; an async iterator and an async context manager."""

    def __init__(self, hub: Hub, channel: str) -> None:
        self.hub = hub
        self.channel = channel
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self._open = False
        self._closed = False

    async def open(self) -> Subscription:
        if not self._open:
            self._open = True
            await self.hub._register(self)
        return self

    async def aclose(self) -> None:
        if self._open and not self._closed:
            self._closed = True
            await self.hub._unregister(self)

    async def __aenter__(self) -> Subscription:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self._closed:
            raise StopAsyncIteration
        await self.open()
        return await self.queue.get()

    def deliver(self, event: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("subscriber on %s is not reading; dropping an event", self.channel)


class Hub:
    """Publish/subscribe by channel name; events are JSON-serialisable dicts."""

    def __init__(self, redis_url: str = "", namespace: str = "") -> None:
        self.redis_url = redis_url
        # Redis channel names are prefixed, so two deployments sharing one Redis never see each other's
        # customers' messages; locally, channel names stay as callers wrote them.
        self.prefix = f"{namespace}:" if namespace else ""
        self._subs: dict[str, set[Subscription]] = defaultdict(set)
        self._redis: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect to Redis when configured (one connection for publishing, one shared pub/sub reader)."""
        if not self.redis_url:
            return
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(self.redis_url, decode_responses=True)
        await self._redis.ping()
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        # A pub/sub connection needs at least one subscription before it can be read from.
        await self._pubsub.subscribe(f"{self.prefix}hub:keepalive")
        self._reader = asyncio.create_task(self._read_redis(), name="hub-redis-reader")

    async def stop(self) -> None:
        if self._reader:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
        self._reader = self._pubsub = self._redis = None

    # -- public API --------------------------------------------------------------------------------------
    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Deliver ``event`` to every subscriber of ``channel`` (in every process, with Redis)."""
        if self._redis is not None:
            await self._redis.publish(self.prefix + channel, json.dumps(event, ensure_ascii=False, default=str))
            return
        self._dispatch(channel, event)

    def subscribe(self, channel: str) -> Subscription:
        """A new subscription; use ``async with`` to register it before anything else happens."""
        return Subscription(self, channel)

    async def healthy(self, timeout: float = 1.0) -> bool:
        """Whether the real-time path works: always, without Redis; with Redis, a PING answered in time."""
        if self._redis is None:
            return not self.redis_url
        try:
            return bool(await asyncio.wait_for(self._redis.ping(), timeout))
        except Exception:  # down, hung or refusing: the health check reports it instead of raising
            return False

    def subscriber_count(self, channel: str) -> int:
        """Local subscribers only (used to tell whether an agent console is watching)."""
        return len(self._subs.get(channel, ()))

    # -- internals ---------------------------------------------------------------------------------------
    def _dispatch(self, channel: str, event: dict[str, Any]) -> None:
        for sub in list(self._subs.get(channel, ())):
            sub.deliver(event)

    async def _register(self, sub: Subscription) -> None:
        first = not self._subs.get(sub.channel)
        self._subs[sub.channel].add(sub)
        if first and self._pubsub is not None:
            async with self._lock:
                await self._pubsub.subscribe(self.prefix + sub.channel)

    async def _unregister(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.channel)
        if subs is None:
            return
        subs.discard(sub)
        if not subs:
            self._subs.pop(sub.channel, None)
            if self._pubsub is not None:
                async with self._lock:
                    with contextlib.suppress(Exception):
                        await self._pubsub.unsubscribe(self.prefix + sub.channel)

    async def _read_redis(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # connection hiccup: log, wait, keep serving
                log.exception("redis pub/sub read failed; retrying")
                await asyncio.sleep(1.0)
                continue
            if not message or message.get("type") != "message":
                continue
            try:
                event = json.loads(message["data"])
            except (TypeError, ValueError):
                continue
            channel = message["channel"]
            if channel.startswith(self.prefix):
                self._dispatch(channel[len(self.prefix):], event)
