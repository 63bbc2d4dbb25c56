"""`make run` keeps the product up when one process dies: the supervisor restarts it and the bot answers
again; a process that keeps dying is reported instead of restarted forever. Real processes (the session's
stack: Rasa server, action server, services app)."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import httpx
import pytest

from scripts.stack import Supervisor

pytestmark = pytest.mark.slow


def kill(stack: Any, name: str) -> None:
    process = next(p for p in stack.processes if p.name == name)
    os.killpg(process.popen.pid, signal.SIGKILL)
    process.popen.wait(timeout=10)


def wait_until(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def test_a_killed_action_server_is_restarted_and_the_bot_answers_again(stack: Any) -> None:
    supervisor = Supervisor(stack)
    actions = next(p for p in stack.processes if p.name == "actions")
    kill(stack, "actions")
    assert supervisor.check() is None
    assert actions.running()
    wait_until(actions.healthy, 120)
    customer = httpx.Client(base_url=stack.services_url, timeout=90)
    session = customer.post("/api/chat/session", json={"lang": "pt"}).json()
    texts = ""
    for n, text in enumerate(("qual o status do pedido 20481234?", "20481234")):
        reply = customer.post("/api/chat/messages", json={"token": session["token"], "client_message_id": f"m{n}",
                                                          "text": text})
        assert reply.status_code == 200, reply.text
        texts = " ".join(m.get("text") or "" for m in reply.json()["messages"][1:])
        if "a caminho" in texts:
            break
    assert "a caminho" in texts, texts  # answered by the order action on the restarted action server


def test_a_process_that_keeps_dying_is_reported_not_restarted_forever(stack: Any) -> None:
    supervisor = Supervisor(stack, max_restarts=1)
    actions = next(p for p in stack.processes if p.name == "actions")
    kill(stack, "actions")
    assert supervisor.check() is None
    kill(stack, "actions")
    failure = supervisor.check()
    assert failure is not None and "actions process died 2 times" in failure
    actions.start(None)  # leave the session's stack as it was for the tests after this one
    wait_until(actions.healthy, 120)
