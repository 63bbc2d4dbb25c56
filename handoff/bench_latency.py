"""Measure message relay latency agent→customer and customer→agent over two real WebSocket clients.

``python -m handoff.bench_latency --messages 200`` starts the services app itself (one process, SQLite), or
``--production`` starts two processes on PostgreSQL + Redis, the agent on one and the customer on the other,
which is the cross-process path of production. Prints p50/p95/max in milliseconds (JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import websockets
from tqdm import tqdm

REPO_ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_processes(count: int, env: dict[str, str], workdir: Path) -> Iterator[list[str]]:
    """Start ``count`` services-app processes sharing ``env``; yield their base URLs."""
    procs, urls = [], []
    full = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_WAIT_POLICY": "PASSIVE", **env}
    subprocess.run([sys.executable, "-m", "handoff.users", "--database-url", env["DATABASE_URL"], "create",
                    "--email", "bench@lumo.test", "--name", "Bench Agent", "--team", "atendimento",
                    "--team", "suporte", "--password-stdin"], input=PASSWORD + "\n", text=True, check=True,
                   cwd=REPO_ROOT, env=full, capture_output=True)
    try:
        # One after the other: two processes migrating the same empty database at once would race.
        for i in range(count):
            port = free_port()
            log = open(workdir / f"app{i}.log", "w")  # noqa: SIM115
            procs.append((subprocess.Popen([sys.executable, "-m", "services", "--port", str(port), "--log-level",
                                            "warning"], cwd=REPO_ROOT, env=full, stdout=log,
                                           stderr=subprocess.STDOUT), log))
            url = f"http://127.0.0.1:{port}"
            urls.append(url)
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if procs[-1][0].poll() is not None:
                    raise RuntimeError(f"app {i} exited:\n{(workdir / f'app{i}.log').read_text()[-3000:]}")
                time.sleep(0.3)
            else:
                raise RuntimeError(f"app at {url} did not start:\n{(workdir / f'app{i}.log').read_text()[-3000:]}")
        yield urls
    finally:
        for proc, log in procs:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _next(ws: Any, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
        if predicate(frame):
            return frame


async def measure(agent_url: str, customer_url: str, internal_token: str, messages: int,
                  show_progress: bool = True) -> dict[str, Any]:
    """Set up one escalated, claimed conversation and time ``messages`` relays in each direction."""
    async with httpx.AsyncClient(base_url=agent_url, timeout=15) as agent_http, \
            httpx.AsyncClient(base_url=customer_url, timeout=15) as customer_http:
        login = await agent_http.post("/api/handoff/auth/login", json={"email": "bench@lumo.test", "password": PASSWORD})
        login.raise_for_status()
        await agent_http.post("/api/handoff/me/status", json={"status": "online"})
        cookie = login.cookies.get("lumo_agent")
        session = (await customer_http.post("/api/chat/session", json={"lang": "pt"})).json()
        cid, token = session["conversation"]["id"], session["token"]
        ws_customer_url = customer_url.replace("http", "ws") + "/ws/chat"
        ws_agent_url = agent_url.replace("http", "ws") + "/ws/agent"
        async with websockets.connect(ws_customer_url) as customer, \
                websockets.connect(ws_agent_url, additional_headers={"Cookie": f"lumo_agent={cookie}"}) as agent:
            await customer.send(json.dumps({"type": "hello", "token": token, "lang": "pt"}))
            await _next(customer, lambda f: f.get("type") == "history")
            events = [{"event": "user", "text": "quero falar com atendente", "timestamp": time.time(),
                       "parse_data": {"intent": {"name": "request_human", "confidence": 0.99}}}]
            esc = await agent_http.post("/api/handoff/escalations", headers={"X-Internal-Token": internal_token},
                                        json={"conversation_id": cid, "reason": "customer_request", "events": events})
            esc.raise_for_status()
            hid = esc.json()["handoff_id"]
            (await agent_http.post(f"/api/handoff/handoffs/{hid}/claim")).raise_for_status()
            await _next(agent, lambda f: f.get("type") == "hello")
            await agent.send(json.dumps({"type": "watch", "handoff_id": hid}))
            await _next(agent, lambda f: f.get("type") == "watching")
            to_customer: list[float] = []
            to_agent: list[float] = []
            for i in tqdm(range(messages), desc="relays", disable=not show_progress):
                text = f"agente {i} {uuid.uuid4().hex[:6]}"
                start = time.perf_counter()
                await agent.send(json.dumps({"type": "message", "handoff_id": hid, "text": text,
                                             "client_message_id": f"a{i}"}))
                await _next(customer, lambda f, t=text: f.get("type") == "message" and f["message"]["text"] == t)
                to_customer.append((time.perf_counter() - start) * 1000)
                text = f"cliente {i} {uuid.uuid4().hex[:6]}"
                start = time.perf_counter()
                await customer.send(json.dumps({"type": "message", "text": text, "client_message_id": f"c{i}"}))
                await _next(agent, lambda f, t=text: f.get("type") == "message" and f["message"]["text"] == t
                            and f["message"]["role"] == "customer")
                to_agent.append((time.perf_counter() - start) * 1000)
    def stats(values: list[float]) -> dict[str, float]:
        return {"n": len(values), "p50_ms": round(statistics.median(values), 2),
                "p95_ms": round(percentile(values, 0.95), 2), "max_ms": round(max(values), 2)}

    return {"agent_to_customer": stats(to_customer), "customer_to_agent": stats(to_agent)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff.bench_latency", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200, help="relays per direction (default 200)")
    parser.add_argument("--production", action="store_true",
                        help="two app processes on PostgreSQL (DATABASE_URL) + Redis (REDIS_URL)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    internal = uuid.uuid4().hex
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        chat_settings = workdir / "chat.yml"
        chat_settings.write_text(f"rate_limit_per_minute: {args.messages * 4}\n")  # the bench is one fast "customer"
        env = {"INTERNAL_TOKEN": internal, "CHAT_SETTINGS": str(chat_settings), "DATA_DIR": tmp,
               "RASA_URL": f"http://127.0.0.1:{free_port()}"}
        if args.production:
            env.update(APP_ENV="production", DATABASE_URL=os.environ["DATABASE_URL"],
                       REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        else:
            env.update(APP_ENV="embedded", DATABASE_URL=f"sqlite:///{tmp}/bench.db", REDIS_URL="")
        with app_processes(2 if args.production else 1, env, workdir) as urls:
            result = asyncio.run(measure(urls[0], urls[-1], internal, args.messages))
    result["setup"] = "two processes, PostgreSQL + Redis" if args.production else "one process, SQLite"
    print(json.dumps(result, indent=2) if args.json else
          "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
