"""Outbound webhooks with a real local HTTP receiver: HMAC-SHA256 signature, retries with backoff, events."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from handoff.models import WebhookDelivery
from handoff.webhooks import sign, verify
from tests.handoff.conftest import Env

SECRET = "segredo-do-helpdesk"


class Receiver:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append({"body": body, "headers": dict(self.headers), "at": time.monotonic()})
                status = 500 if receiver.failures > 0 else 204
                receiver.failures -= 1
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n: int, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while len(self.calls) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.calls) >= n, f"{len(self.calls)} calls, expected {n}"


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=2)
    yield r
    r.server.shutdown()


def test_signed_events_with_retries(make_env: Callable[..., Env], receiver: Receiver) -> None:
    env = make_env(**{"webhooks": [{"name": "helpdesk", "url": receiver.url, "secret": SECRET,
                                    "events": ["created", "claimed", "resolved"]}],
                      "webhook_retry.backoff_seconds": 0.3, "webhook_retry.max_attempts": 5})
    env.agent("a@lumo.test", "Ana", ["atendimento"])
    ana = env.login("a@lumo.test")
    cid, _ = env.conversation()
    hid = env.escalate(cid, "frustration").json()["handoff_id"]
    receiver.wait(3)  # two 500s, then delivered
    first, second, third = receiver.calls[:3]
    assert first["body"] == second["body"] == third["body"]
    # Exponential backoff: ~0.3 s then ~0.6 s (polling adds up to 0.5 s).
    assert 0.25 <= second["at"] - first["at"] < 1.5
    assert 0.55 <= third["at"] - second["at"] < 2.0
    event = json.loads(third["body"])
    assert event["event"] == "handoff.created" and event["data"]["handoff"]["id"] == hid
    assert event["data"]["handoff"]["reason"] == "frustration"
    assert event["data"]["transcript"]["messages"][-1]["text"] == "quero falar com um atendente"
    assert verify(SECRET, third["body"], third["headers"]["X-Lumo-Signature"])
    assert not verify("outro-segredo", third["body"], third["headers"]["X-Lumo-Signature"])
    assert third["headers"]["X-Lumo-Event"] == "handoff.created"
    ana.post(f"/api/handoff/handoffs/{hid}/claim")
    ana.post(f"/api/handoff/handoffs/{hid}/resolve", json={"tag": "resolvido"})
    receiver.wait(5)
    kinds = [json.loads(c["body"])["event"] for c in receiver.calls[3:5]]
    assert kinds == ["handoff.claimed", "handoff.resolved"]
    expected = [("created", "delivered", 3), ("claimed", "delivered", 1), ("resolved", "delivered", 1)]
    # The worker records "delivered" just after the receiver answers: wait for it rather than race it.
    deadline = time.monotonic() + 5
    while True:
        with env.app.state.db.session() as s:
            rows = s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
            recorded = [(r.event, r.status, r.attempts) for r in rows]
        if recorded == expected or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert recorded == expected


def test_gives_up_after_max_attempts(make_env: Callable[..., Env]) -> None:
    receiver = Receiver(failures=100)
    try:
        env = make_env(**{"webhooks": [{"url": receiver.url, "secret": SECRET}],
                          "webhook_retry.backoff_seconds": 0.1, "webhook_retry.max_attempts": 3})
        env.agent("a@lumo.test", "Ana", ["atendimento"])
        cid, _ = env.conversation()
        env.escalate(cid)
        receiver.wait(3)
        time.sleep(1.0)
        assert len(receiver.calls) == 3
        with env.app.state.db.session() as s:
            row = s.scalars(select(WebhookDelivery)).one()
            assert row.status == "failed" and row.last_error == "HTTP 500"
    finally:
        receiver.server.shutdown()


def test_signature_matches_an_independent_hmac() -> None:
    import hashlib
    import hmac

    body = b'{"event": "handoff.created"}'
    assert sign("k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
