"""Production mode (two real app processes on PostgreSQL + Redis): signing out on one process closes the console
socket held by the other at once, and failed sign-ins counted by one process lock the other too."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
import websockets

from handoff.bench_latency import PASSWORD, app_processes, free_port
from tests.handoff.conftest import write_policy
from tests.handoff.test_session_sockets import _closed_within

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def test_sign_out_and_failed_sign_ins_cross_processes(pg_url: str, tmp_path: Path) -> None:
    # Re-checks are slow here (60 s): only the sign-out signal through Redis can close the socket in 2 s.
    policy = write_policy(tmp_path, **{"agents.session_recheck_seconds": 60})
    env = {"APP_ENV": "production", "DATABASE_URL": pg_url, "REDIS_URL": "redis://127.0.0.1:6379/0",
           "INTERNAL_TOKEN": uuid.uuid4().hex, "DATA_DIR": str(tmp_path), "HANDOFF_POLICY": str(policy),
           "RASA_URL": f"http://127.0.0.1:{free_port()}"}
    with app_processes(2, env, tmp_path) as (a, b):
        agent = httpx.Client(base_url=a, timeout=10)
        assert agent.post("/api/handoff/auth/login",
                          json={"email": "bench@lumo.test", "password": PASSWORD}).status_code == 200
        cookie = f"lumo_agent={agent.cookies['lumo_agent']}"

        async def sign_out_elsewhere() -> int | None:
            ws_url = a.replace("http://", "ws://") + "/ws/agent"
            async with websockets.connect(ws_url, additional_headers={"Cookie": cookie, "Origin": a}) as ws:
                assert '"hello"' in await asyncio.wait_for(ws.recv(), 5)
                async with httpx.AsyncClient(base_url=b, timeout=10) as other:
                    r = await other.post("/api/handoff/auth/logout", headers={"Cookie": cookie, "Origin": b})
                    assert r.status_code == 200
                return await _closed_within(ws, 2)

        assert asyncio.run(sign_out_elsewhere()) == 4401

        for n in range(5):
            r = httpx.post(f"{(a, b)[n % 2]}/api/handoff/auth/login",
                           json={"email": "bench@lumo.test", "password": "wrong-password"}, timeout=10)
            assert r.status_code == 401
        for url in (a, b):
            r = httpx.post(f"{url}/api/handoff/auth/login", json={"email": "bench@lumo.test", "password": PASSWORD},
                           timeout=10)
            assert r.status_code == 429, url
