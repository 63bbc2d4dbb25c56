"""Fixtures for the metrics tests: a real services app whose history is written by the product's own code paths.

Customers talk through ``/api/chat/*`` (ChatService), agents act through ``/api/handoff/*`` (HandoffService),
escalations come through the internal escalation API, all with the lifecycle's injectable clock
(``app.state.conversations.clock``) set by the test. The one thing that is not the product is Rasa: a scripted
Rasa answers the REST channel's ``?turn=1`` envelope over real HTTP (what the bot would say is not what these
tests measure), and may move the clock forward while "thinking", so bot reply times are real intervals.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from handoff.auth import hash_password
from handoff.models import Agent
from services.app import create_app
from services.kb_events.models import KbEvent
from services.settings import load_settings
from tests.handoff.conftest import INTERNAL, PASSWORD, bot, user, write_policy

SP = ZoneInfo("America/Sao_Paulo")


def sp(text: str) -> datetime:
    """A São Paulo wall time ``YYYY-MM-DD HH:MM[:SS]`` as the naive UTC the tables store."""
    return datetime.fromisoformat(text).replace(tzinfo=SP).astimezone(UTC).replace(tzinfo=None)


class Clock:
    """The time every write sees (the lifecycle's clock); tests set it, the scripted bot advances it."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return self.now

    def set(self, now: datetime) -> None:
        with self.lock:
            self.now = now

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += timedelta(seconds=seconds)


class ScriptedRasa:
    """A Rasa REST channel that answers each conversation's next message from a script, over real HTTP."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.script: dict[str, list[dict[str, Any]]] = {}
        rasa = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                if self.path.startswith("/webhooks/rest/webhook"):
                    answer = rasa.answer(str(body.get("sender")))
                else:  # /conversations/<id>/tracker/events: the resume after a handoff
                    answer = {}
                raw = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def expect(self, conversation_id: str, text: str, intent: str, seconds: float, language: str = "pt",
               kb: dict[str, Any] | None = None) -> None:
        self.script.setdefault(conversation_id, []).append(
            {"text": text, "intent": intent, "seconds": seconds, "language": language, "kb": kb})

    def answer(self, sender: str) -> dict[str, Any]:
        step = self.script[sender].pop(0)
        self.clock.advance(step["seconds"])
        reply: dict[str, Any] = {"recipient_id": sender, "text": step["text"]}
        if step["kb"]:
            reply["custom"] = {"kb": step["kb"]}
        return {"messages": [reply], "turn": {"intent": step["intent"], "confidence": 0.9,
                                              "language": step["language"], "actions": []}}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class World:
    """One running app, its clock and its scripted bot, with the moves customers and agents make."""

    def __init__(self, client: TestClient, clock: Clock, rasa: ScriptedRasa) -> None:
        self.client = client
        self.app = client.app
        self.clock = clock
        self.rasa = rasa
        self.app.state.conversations.clock = clock
        self.agents: dict[str, tuple[int, TestClient]] = {}

    def at(self, when: datetime) -> World:
        self.clock.set(when)
        return self

    # -- agents ----------------------------------------------------------------------------------------
    def agent(self, name: str, teams: list[str], role: str = "agent") -> int:
        email = f"{name.lower()}@lumo.example"
        with self.app.state.db.session() as s:
            row = Agent(email=email, name=name, password_hash=hash_password(PASSWORD), role=role, teams=teams,
                        status="online", last_seen_at=self.clock(), active=True)
            s.add(row)
            s.flush()
            agent_id = row.id
        c = TestClient(self.app)
        c.portal = self.client.portal  # the app's event loop, as under uvicorn
        r = c.post("/api/handoff/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.agents[name] = (agent_id, c)
        return agent_id

    def online(self, *names: str) -> None:
        """The consoles of these agents report in now (presence follows the clock)."""
        for name in names:
            self.app.state.handoff.touch(self.agents[name][0])

    def console(self, name: str) -> TestClient:
        return self.agents[name][1]

    def act(self, name: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.console(name).post(f"/api/handoff/handoffs/{path}", json=body or {})
        assert r.status_code in (200, 201), r.text
        return r.json()

    # -- customers -------------------------------------------------------------------------------------
    def customer(self, lang: str = "pt") -> tuple[str, str]:
        r = self.client.post("/api/chat/session", json={"lang": lang})
        assert r.status_code == 200, r.text
        return r.json()["conversation"]["id"], r.json()["token"]

    def say(self, token: str, text: str) -> dict[str, Any]:
        r = self.client.post("/api/chat/messages", json={"token": token, "text": text})
        assert r.status_code == 200, r.text
        return r.json()

    def rate(self, token: str, rating: int, comment: str = "") -> None:
        r = self.client.post("/api/chat/csat", json={"token": token, "rating": rating, "comment": comment})
        assert r.status_code == 200, r.text

    def unanswered(self, cid: str, question: str, language: str = "pt") -> None:
        """The action server reports a question the knowledge base had no answer for (``/api/kb/events``).

        ``kb_events`` rows take the database's clock (a server default), which the test's clock cannot reach,
        so the row is moved to the test's "now" afterwards.
        """
        r = self.client.post("/api/kb/events", json={"conversation_id": cid, "kind": "no_answer", "query": question,
                                                     "language": language}, headers={"X-Internal-Token": INTERNAL})
        assert r.status_code == 201, r.text
        with self.app.state.db.session() as s:
            s.execute(update(KbEvent).where(KbEvent.id == r.json()["id"]).values(created_at=self.clock()))

    def escalate(self, cid: str, reason: str, topic: str) -> int:
        events = [user("preciso de ajuda", topic, 0.9), bot("Vou chamar alguém."),
                  user("quero falar com uma pessoa", "request_human", 0.97)]
        r = self.client.post("/api/handoff/escalations", json={"conversation_id": cid, "reason": reason,
                                                               "events": events},
                             headers={"X-Internal-Token": INTERNAL})
        assert r.status_code == 201, r.text
        return int(r.json()["handoff_id"])


@pytest.fixture(scope="module")
def make_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., World]]:
    """Module-scoped: a history is written once and read by several tests (building an app takes seconds)."""
    opened: list[tuple[TestClient, ScriptedRasa]] = []
    tmp_path = tmp_path_factory.mktemp("metrics")
    patch = pytest.MonkeyPatch()

    def build(start: datetime, database_url: str | None = None) -> World:
        clock = Clock(start)
        rasa = ScriptedRasa(clock)
        patch.setenv("INTERNAL_TOKEN", INTERNAL)
        patch.setenv("HANDOFF_POLICY", str(write_policy(tmp_path)))
        patch.delenv("RASA_TOKEN", raising=False)
        url = database_url or f"sqlite:///{tmp_path}/metrics-{uuid.uuid4().hex[:6]}.db"
        settings = load_settings(database_url=url,
                                 data_dir=tmp_path, rasa_url=rasa.url, rasa_timeout_seconds=5.0, redis_url="",
                                 app_env="embedded")
        client = TestClient(create_app(settings))
        client.__enter__()
        opened.append((client, rasa))
        return World(client, clock, rasa)

    yield build
    for client, rasa in opened:
        client.__exit__(None, None, None)
        rasa.close()
    patch.undo()
