"""Production mode: two real app processes on PostgreSQL + Redis; the agent on one, the customer on the other.

Messages must cross processes both ways (the hub's Redis pub/sub), and every relayed message is in the
database; a restart of both processes loses nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest

from handoff.bench_latency import app_processes, free_port, measure

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def test_relay_across_two_processes_and_restart(pg_url: str, tmp_path: Path) -> None:
    internal = uuid.uuid4().hex
    chat_settings = tmp_path / "chat.yml"
    chat_settings.write_text("rate_limit_per_minute: 200\n")
    env = {"APP_ENV": "production", "DATABASE_URL": pg_url, "REDIS_URL": "redis://127.0.0.1:6379/0",
           "INTERNAL_TOKEN": internal, "CHAT_SETTINGS": str(chat_settings), "DATA_DIR": str(tmp_path),
           "RASA_URL": f"http://127.0.0.1:{free_port()}"}
    with app_processes(2, env, tmp_path) as (a, b):
        assert a != b
        result = asyncio.run(measure(a, b, internal, 15, show_progress=False))
        assert result["agent_to_customer"]["n"] == 15 and result["customer_to_agent"]["n"] == 15
        assert result["agent_to_customer"]["p95_ms"] < 2000
    # Both processes stopped; new ones on the same database still have everything.
    with app_processes(1, {**env}, tmp_path) as (c,):
        agent = httpx.Client(base_url=c, timeout=10)
        agent.post("/api/handoff/auth/login", json={"email": "bench@lumo.test", "password": "bench-password-1"})
        mine = agent.get("/api/handoff/queue").json()["mine"]
        assert len(mine) == 1
        detail = agent.get(f"/api/handoff/handoffs/{mine[0]['id']}").json()
        roles = [m["role"] for m in detail["messages"]]
        assert roles.count("agent") == 15 and roles.count("customer") == 15
