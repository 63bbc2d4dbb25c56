"""The hub: in-process fan-out, and Redis pub/sub delivering between two hubs (two app processes)."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from services.chat.hub import Hub

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_in_process_publish_reaches_every_subscriber_of_the_channel_only() -> None:
    async def scenario() -> None:
        hub = Hub()
        async with hub.subscribe("conversation:a") as a1, hub.subscribe("conversation:a") as a2, \
                hub.subscribe("conversation:b") as b:
            await hub.publish("conversation:a", {"type": "message", "n": 1})
            assert (await asyncio.wait_for(a1.__anext__(), 1))["n"] == 1
            assert (await asyncio.wait_for(a2.__anext__(), 1))["n"] == 1
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(b.__anext__(), 0.2)
        assert hub.subscriber_count("conversation:a") == 0

    asyncio.run(scenario())


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except Exception:
        return False


@pytest.mark.redis
def test_redis_hub_delivers_between_two_processes_worth_of_hubs() -> None:
    if not _redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")

    async def scenario() -> None:
        sender, receiver = Hub(REDIS_URL), Hub(REDIS_URL)
        await sender.start()
        await receiver.start()
        channel = f"conversation:test-{uuid.uuid4().hex}"
        try:
            async with receiver.subscribe(channel) as sub:
                await asyncio.sleep(0.2)  # the SUBSCRIBE reaches Redis
                await sender.publish(channel, {"type": "message", "text": "olá"})
                event = await asyncio.wait_for(sub.__anext__(), 5)
                assert event == {"type": "message", "text": "olá"}
        finally:
            await sender.stop()
            await receiver.stop()

    asyncio.run(scenario())
