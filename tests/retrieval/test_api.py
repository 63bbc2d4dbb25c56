"""GET /api/search through a tiny FastAPI app: response shape, input limits, OpenAPI documentation."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from retrieval.api import install, router
from retrieval.service import SearchState


@pytest.fixture(scope="module")
def client(shared_state: SearchState):  # type: ignore[no-untyped-def]
    app = FastAPI()
    install(app, shared_state)
    with TestClient(app) as c:
        yield c


def test_search_returns_passages_with_links_and_verdict(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "esqueci minha senha, como troco?", "lang": "pt", "k": 3})
    assert r.status_code == 200
    body = r.json()
    top = body["results"][0]
    assert top["article_id"] == "redefinir-senha" and top["url"] == "/help/pt/redefinir-senha"
    assert top["lang"] == "pt" and top["category"] == "support" and top["title"]
    assert top["heading"] and "senha" in top["snippet"].lower() and isinstance(top["score"], float)
    assert body["lang"] == "pt" and body["results_lang"] == "pt" and body["fallback"] is False
    assert body["answerable"] is True and 0.5 <= body["probability"] <= 1, body["probability"]
    assert len(body["results"]) <= 3 and len({x["article_id"] for x in body["results"]}) == len(body["results"])


def test_auto_language_detects_english(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "how can I reset my password?"}).json()
    assert body["lang"] == "en" and body["results"][0]["url"] == "/help/en/reset-password"


@pytest.mark.parametrize("params", [
    {"q": ""}, {"q": "x" * 501}, {"q": "senha", "k": 0}, {"q": "senha", "k": 21}, {"q": "senha", "k": "dez"},
    {"q": "senha", "lang": "es"}, {}, {"q": "   "},
])
def test_bad_input_is_a_clear_422(client: TestClient, params: dict) -> None:
    r = client.get("/api/search", params=params)
    assert r.status_code == 422
    assert r.json()["detail"]


def test_limits_are_accepted_at_the_edges(client: TestClient) -> None:
    assert client.get("/api/search", params={"q": "s" * 500, "k": 20}).status_code == 200
    assert client.get("/api/search", params={"q": "<script>alert(1)</script>", "k": 1}).status_code == 200


def test_not_ready_is_503() -> None:
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as c:
        assert c.get("/api/search", params={"q": "senha"}).status_code == 503


def test_openapi_documents_limits_and_response_model(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/search"]["get"]
    params = {p["name"]: p["schema"] for p in op["parameters"]}
    assert params["q"]["maxLength"] == 500 and params["q"]["minLength"] == 1
    assert params["k"]["maximum"] == 20 and params["k"]["minimum"] == 1
    assert set(params["lang"]["enum"]) == {"pt", "en", "auto"}
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("SearchResponse")
    assert "PassageOut" in spec["components"]["schemas"]


def test_other_language_results_say_so_in_the_customers_language(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "como ligar a visão noturna infravermelha da Lumo Cam?",
                                             "lang": "pt", "k": 2}).json()
    assert body["fallback"] is True and body["results_lang"] == "en"
    assert body["language_note"] == "Não encontrei esse assunto em português; o artigo abaixo está em inglês."
    assert body["results"][0]["url"] == "/help/en/lumo-cam-night-vision" and body["results"][0]["other_language"]
    same = client.get("/api/search", params={"q": "esqueci minha senha", "lang": "pt"}).json()
    assert same["language_note"] is None and not any(r["other_language"] for r in same["results"])


def test_snippets_have_no_table_syntax(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "parcelar no cartao de credito", "lang": "pt"}).json()
    assert body["results"] and all("|" not in r["snippet"] and "**" not in r["snippet"] for r in body["results"])
