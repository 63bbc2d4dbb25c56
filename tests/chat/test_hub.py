"""The hub: in-process fan-out, and Redis pub/sub delivering between two hubs (two app processes)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from services.app import create_app
from services.chat.hub import Hub
from services.settings import load_settings

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


@pytest.mark.redis
def test_two_deployments_sharing_a_redis_never_see_each_others_events() -> None:
    if not _redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")

    async def scenario() -> None:
        ours, ours_too, theirs = Hub(REDIS_URL, "lumo-a"), Hub(REDIS_URL, "lumo-a"), Hub(REDIS_URL, "lumo-b")
        for hub in (ours, ours_too, theirs):
            await hub.start()
        channel = "conversation:same-id-in-both"
        try:
            async with ours_too.subscribe(channel) as same, theirs.subscribe(channel) as other:
                await asyncio.sleep(0.2)
                await ours.publish(channel, {"type": "message", "text": "meu cpf e 529.982.247-25"})
                assert (await asyncio.wait_for(same.__anext__(), 5))["type"] == "message"
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(other.__anext__(), 0.5)
        finally:
            for hub in (ours, ours_too, theirs):
                await hub.stop()

    asyncio.run(scenario())


def test_each_deployment_gets_its_own_namespace() -> None:
    one = load_settings(database_url="postgresql+psycopg://u@db/lumo_a", secret_key="x")
    two = load_settings(database_url="postgresql+psycopg://u@db/lumo_b", secret_key="x")
    assert one.deployment_namespace != two.deployment_namespace
    assert one.deployment_namespace == load_settings(database_url="postgresql+psycopg://u@db/lumo_a",
                                                     secret_key="x").deployment_namespace


@pytest.mark.redis
def test_health_reports_a_hung_redis(tmp_path: Path) -> None:
    """Redis paused (CLIENT PAUSE: connections accepted, commands not answered): /api/health says 503 within
    seconds instead of hanging, and 200 again once Redis answers."""
    if not _redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'services.db'}", data_dir=tmp_path,
                             redis_url=REDIS_URL, secret_key="test-secret-key-for-health")
    with TestClient(create_app(settings)) as client:
        healthy = client.get("/api/health")
        assert healthy.status_code == 200 and healthy.json()["checks"] == {"database": True, "redis": True}
        redis.Redis.from_url(REDIS_URL).execute_command("CLIENT", "PAUSE", "2500", "ALL")
        hung = client.get("/api/health")
        assert hung.status_code == 503 and hung.json()["checks"]["redis"] is False
        time.sleep(2.6)
        assert client.get("/api/health").status_code == 200
