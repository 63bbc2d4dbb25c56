"""Recording knowledge-base answers and feedback: internal-only, and the per-article figures add up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.app import create_app
from services.settings import load_settings

TOKEN = "test-internal-token"


@pytest.fixture()
def client(tmp_path, monkeypatch) -> Iterator[TestClient]:
    monkeypatch.setenv("INTERNAL_TOKEN", TOKEN)
    app = create_app(load_settings(database_url=f"sqlite:///{tmp_path}/kb.db", data_dir=tmp_path))
    with TestClient(app) as test_client:
        yield test_client


def post(client: TestClient, **event) -> int:
    return client.post("/api/kb/events", json=event, headers={"X-Internal-Token": TOKEN}).status_code


def test_events_require_the_internal_token(client: TestClient) -> None:
    event = {"conversation_id": "c1", "kind": "answer", "article_id": "rastrear-pedido"}
    assert client.post("/api/kb/events", json=event).status_code == 401
    assert client.post("/api/kb/events", json=event, headers={"X-Internal-Token": "wrong"}).status_code == 401
    assert client.get("/api/kb/stats").status_code == 401


def test_stats_per_article(client: TestClient) -> None:
    assert post(client, conversation_id="c1", kind="answer", article_id="a", score=0.8) == 201
    assert post(client, conversation_id="c1", kind="feedback", article_id="a", helped=True) == 201
    assert post(client, conversation_id="c2", kind="answer", article_id="a") == 201
    assert post(client, conversation_id="c2", kind="feedback", article_id="a", helped=False) == 201
    assert post(client, conversation_id="c3", kind="no_answer", query="capital da franca?") == 201
    stats = client.get("/api/kb/stats", headers={"X-Internal-Token": TOKEN}).json()
    assert stats["answers"] == 2 and stats["no_answer"] == 1
    assert stats["articles"] == [{"article_id": "a", "shown": 2, "helped": 1, "not_helped": 1}]


@pytest.mark.parametrize("bad", [{"conversation_id": "", "kind": "answer"}, {"conversation_id": "c", "kind": "x"},
                                 {"conversation_id": "c", "kind": "answer", "query": "q" * 10_000}])
def test_bad_events_are_rejected(client: TestClient, bad: dict) -> None:
    assert post(client, **bad) == 422
