"""Two (or eight) agents claim the same chat at the same moment: exactly one wins, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select

from handoff.models import Handoff
from services.conversations.models import ConversationEvent
from tests.handoff.conftest import Env


def race(env: Env, claimers: int) -> None:
    agents = [env.agent(f"a{i}@lumo.test", f"Agente {i}", ["atendimento"]) for i in range(claimers)]
    for round_ in range(5):
        cid, _ = env.conversation()
        hid = env.escalate(cid).json()["handoff_id"]
        barrier = threading.Barrier(claimers)
        results: list[object] = [None] * claimers

        def claim(i: int, hid: int = hid, barrier: threading.Barrier = barrier, results: list = results) -> None:
            barrier.wait()
            results[i] = env.svc.claim_row(hid, agents[i])[0]

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(claimers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        winners = [r for r in results if r is not None]
        assert len(winners) == 1, f"round {round_}: {len(winners)} winners"
        with env.app.state.db.session() as s:
            h = s.get(Handoff, hid)
            assert h.status == "active" and h.agent_id == winners[0].agent_id
            claims = s.scalars(select(ConversationEvent).where(ConversationEvent.handoff_id == hid,
                                                               ConversationEvent.kind == "agent_joined")).all()
            assert len(claims) == 1


def test_claim_race_sqlite(env: Env) -> None:
    race(env, 2)


def test_claim_race_sqlite_eight_agents(make_env: Callable[..., Env]) -> None:
    race(make_env(), 8)


@pytest.mark.postgres
def test_claim_race_postgres(make_env: Callable[..., Env], pg_url: str) -> None:
    race(make_env(pg_url), 8)


def test_claim_over_http_second_agent_gets_409(env: Env) -> None:
    env.agent("a@lumo.test", "A", ["atendimento"])
    env.agent("b@lumo.test", "B", ["atendimento"])
    a, b = env.login("a@lumo.test"), env.login("b@lumo.test")
    cid, _ = env.conversation()
    hid = env.escalate(cid).json()["handoff_id"]
    codes = []
    barrier = threading.Barrier(2)

    def go(client) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        codes.append(client.post(f"/api/handoff/handoffs/{hid}/claim").status_code)

    threads = [threading.Thread(target=go, args=(c,)) for c in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(codes) == [200, 409]
