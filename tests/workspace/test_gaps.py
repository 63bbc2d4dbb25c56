"""Knowledge-base gaps (``/api/lead/gaps``) over events written by the product's own code paths.

Customer messages go through the chat service (``store_customer_message``), the bot's readings through the
code that logs a Rasa turn (``ChatService._log_turn``, the same call a real turn makes), not-answerable searches
through ``POST /api/kb/events`` (as the action server sends them), escalations through
``POST /api/handoff/escalations`` and agent replies through ``post_agent_message``. Rasa itself is not running:
its turns are written as it returns them. The search is the real one, over a real index of a temporary copy of
kb_articles, and a draft published from a gap becomes that search's answer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from kb_articles.check_articles import check_folder
from services.chat.rasa_client import Turn
from services.db import utcnow
from services.workspace import audit
from services.workspace.gaps import cluster_vectors
from tests.handoff.conftest import INTERNAL, tracker_events

# One question the knowledge base does not answer, asked five ways by five customers, in pt and en.
CRYPTO = [
    ("pt", "fallback", "Vocês aceitam pagamento em bitcoin? joana.silva@example.com"),
    ("pt", "no_answer", "dá pra pagar com criptomoeda?"),
    ("en", "fallback", "Can I pay with bitcoin?"),
    ("pt", "not_helped", "posso pagar em bitcoin ou outra cripto?"),
    ("en", "escalated", "do you accept cryptocurrency payments like bitcoin"),
]
# Another one, three customers.
STORE = [
    ("pt", "fallback", "vocês têm loja física em Curitiba?"),
    ("pt", "no_answer", "onde fica a loja física de vocês pra eu ir pessoalmente"),
    ("en", "fallback", "do you have a physical store in Curitiba?"),
]
AGENT_ANSWER = "Ainda não aceitamos criptomoedas; use Pix ou cartão. Qualquer dúvida, meu ramal é (11) 98765-4321."


def ask(app: Any, lang: str, source: str, text: str) -> str:
    """One customer asks ``text``; the bot fails the way ``source`` says. Returns the conversation id."""
    chat = app.chat
    conv = app.call(chat.create_conversation(lang))
    cid = conv.id
    if source == "escalated":
        hello, _ = app.call(chat.store_customer_message(cid, "oi" if lang == "pt" else "hi"))
        app.run(lambda tx: chat._log_turn(tx, hello, Turn(replies=[{"text": "Olá!"}], intent="greet",
                                                          confidence=0.99)))
    message, _ = app.call(chat.store_customer_message(cid, text))
    if source in ("fallback", "no_answer"):
        turn = Turn(replies=[{"text": "Não sei responder isso."}], intent="nlu_fallback", confidence=0.3)
        app.run(lambda tx: chat._log_turn(tx, message, turn))
        if source == "no_answer":
            r = app.client().post("/api/kb/events", headers={"X-Internal-Token": INTERNAL},
                                  json={"conversation_id": cid, "kind": "no_answer", "query": text, "language": lang,
                                        "probability": 0.1})
            assert r.status_code == 201, r.text
    elif source == "not_helped":
        kb = {"asked": "helped", "article_id": "formas-de-pagamento", "url": "/help/pt/formas-de-pagamento",
              "title": "Formas de pagamento", "score": 0.4}
        app.run(lambda tx: chat._log_turn(tx, message, Turn(replies=[{"text": "Veja as formas de pagamento",
                                                                      "custom": {"kb": kb}}],
                                                            intent="nlu_fallback", confidence=0.4)))
        no, _ = app.call(chat.store_customer_message(cid, "/deny"))
        app.run(lambda tx: chat._log_turn(tx, no, Turn(replies=[{"text": "Poxa.", "custom": {"kb": {
            "feedback": "not_helped", "article_id": "formas-de-pagamento"}}}], intent="deny", confidence=1.0)))
    elif source == "escalated":
        app.run(lambda tx: chat._log_turn(tx, message, Turn(replies=[{"text": "Vou chamar alguém."}],
                                                            intent="payment_methods", confidence=0.5)))
        r = app.client().post("/api/handoff/escalations", headers={"X-Internal-Token": INTERNAL},
                              json={"conversation_id": cid, "reason": "customer_request", "language": lang,
                                    "events": tracker_events("payment_methods")})
        assert r.status_code in (200, 201), r.text
        app.call(chat.post_agent_message(cid, AGENT_ANSWER, "Ana Agente", agent_id=app.agent.id))
    return cid


def answered(app: Any) -> str:
    """A question the bot did answer, with an article that helped: never a gap."""
    chat = app.chat
    cid = app.call(chat.create_conversation("pt")).id
    message, _ = app.call(chat.store_customer_message(cid, "como rastrear meu pedido"))
    kb = {"asked": "helped", "article_id": "rastrear-pedido", "url": "/help/pt/rastrear-pedido", "title": "R",
          "score": 0.9}
    app.run(lambda tx: chat._log_turn(tx, message, Turn(replies=[{"text": "Assim", "custom": {"kb": kb}}],
                                                        intent="nlu_fallback", confidence=0.4)))
    yes, _ = app.call(chat.store_customer_message(cid, "/affirm"))
    app.run(lambda tx: chat._log_turn(tx, yes, Turn(replies=[{"text": "Que bom", "custom": {"kb": {
        "feedback": "helped", "article_id": "rastrear-pedido"}}}], intent="affirm", confidence=1.0)))
    return cid


@pytest.fixture()
def seeded(workspace_app) -> dict[str, Any]:
    """The two questions asked; the first two crypto customers asked 20 days ago (first half of the window)."""
    app = workspace_app
    now = utcnow()
    ids: dict[str, list[str]] = {"crypto": [], "store": []}
    app.conversations.clock = lambda: now - timedelta(days=20)
    for lang, source, text in CRYPTO[:2]:
        ids["crypto"].append(ask(app, lang, source, text))
    app.conversations.clock = utcnow
    for lang, source, text in CRYPTO[2:]:
        ids["crypto"].append(ask(app, lang, source, text))
    for lang, source, text in STORE:
        ids["store"].append(ask(app, lang, source, text))
    ids["answered"] = [answered(app)]
    return ids


def gaps_of(client: httpx.Client) -> list[dict]:
    r = client.get("/api/lead/gaps")
    assert r.status_code == 200, r.text
    return r.json()["gaps"]


def test_paraphrases_of_one_unanswered_question_land_together_pt_and_en(
        workspace_app, lead_client: httpx.Client, seeded: dict[str, Any]) -> None:
    gaps = gaps_of(lead_client)
    crypto, store = gaps[0], gaps[1]
    assert crypto["customers"] == 5 and crypto["questions"] == 5, [(g["title"], g["customers"]) for g in gaps]
    assert crypto["languages"] == {"pt": 3, "en": 2}
    # A not-answerable search and a "didn't help" follow the bot's fallback on the same message: both sources.
    assert crypto["sources"] == {"fallback": 4, "no_answer": 1, "not_helped": 1, "escalated": 1}
    assert store["customers"] == 3 and store["languages"] == {"pt": 2, "en": 1}, gaps
    assert len(gaps) == 2  # the answered question, greetings and the "/deny" button are not gaps
    texts = " ".join(crypto["examples"])
    assert "bitcoin" in texts.lower() and "loja" not in texts
    assert "joana.silva@example.com" not in texts and "j***@***.com" in texts  # personal data masked
    assert crypto["trend"] == {"direction": "up", "first_half": 2, "second_half": 3}
    assert store["trend"]["direction"] == "up" and store["trend"]["first_half"] == 0
    closest = crypto["closest"]
    assert closest["article_id"] and closest["url"].startswith("/help/") and isinstance(closest["score"], float)


def test_clustering_does_not_chain_topics_through_one_bridge() -> None:
    import numpy as np

    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    bridge = (a + b) / np.linalg.norm(a + b)
    vectors = np.stack([a, a, bridge, b, b])
    groups = sorted(sorted(g) for g in cluster_vectors(vectors, 0.7))
    assert not any(0 in g and 3 in g for g in groups), groups  # the bridge joins one side, never both
    assert [3, 4] in groups
    assert len(cluster_vectors(vectors, 0.7, method="single")) == 1  # single linkage does chain them
    langs = ["pt", "pt", "pt", "en", "en"]  # the cross-language bonus lifts only pt/en pairs
    assert len(cluster_vectors(vectors, 0.7, langs=langs, cross_language_bonus=0.7)) == 1
    assert cluster_vectors(np.zeros((0, 2)), 0.8) == [] and cluster_vectors(vectors[:1], 0.8) == [[0]]


def test_a_published_draft_becomes_the_kb_answer(workspace_app, lead_client: httpx.Client,
                                                 seeded: dict[str, Any]) -> None:
    anonymous = workspace_app.client()
    crypto = gaps_of(lead_client)[0]
    r = lead_client.post(f"/api/lead/gaps/{crypto['id']}/draft", json={
        "langs": ["pt", "en"], "titles": {"pt": "Posso pagar com bitcoin ou criptomoedas?",
                                          "en": "Can I pay with bitcoin or cryptocurrency?"}})
    assert r.status_code == 200, r.text
    drafts = {d["lang"]: d for d in r.json()["drafts"]}
    assert drafts["pt"]["id"] == "posso-pagar-com-bitcoin-ou-criptomoedas"
    assert drafts["en"]["id"] == "can-i-pay-with-bitcoin-or-cryptocurrency"
    kb = workspace_app.kb_articles
    pt_text = (kb / "pt" / f"{drafts['pt']['id']}.md").read_text(encoding="utf-8")
    assert "status: draft" in pt_text and f"translation: {drafts['en']['id']}" in pt_text
    assert "Can I pay with bitcoin?" in pt_text and "dá pra pagar com criptomoeda?" in pt_text
    assert "Ainda não aceitamos criptomoedas; use Pix ou cartão" in pt_text  # what the agent answered...
    assert "98765-4321" not in pt_text and "joana.silva@example.com" not in pt_text  # ...masked
    assert check_folder(kb) == []  # drafts pass the CI checker as they are
    entry = audit.entries(workspace_app.db, action="draft_created")[0]
    assert entry["target"] == f"gap:{crypto['id']}" and len(entry["after"]["files"]) == 2

    question_pt, question_en = "vocês aceitam bitcoin como pagamento?", "Can I pay with bitcoin?"

    def top(q: str, lang: str) -> dict:
        r = anonymous.get("/api/search", params={"q": q, "lang": lang, "k": 3})
        assert r.status_code == 200, r.text
        return r.json()

    assert top(question_pt, "pt")["results"][0]["article_id"] != drafts["pt"]["id"]  # drafts are not searched
    assert anonymous.get(f"/help/pt/{drafts['pt']['id']}").status_code == 404  # nor shown

    # The lead writes the answer in both languages, then publishes the pair.
    for lang, answer in (("pt", "Não. A Lumo não aceita bitcoin nem outras criptomoedas: pague com Pix, cartão "
                                "de crédito ou boleto."),
                         ("en", "No. Lumo does not accept bitcoin or any other cryptocurrency: pay with Pix, "
                                "credit card or boleto.")):
        loaded = lead_client.get(f"/api/lead/articles/{lang}/{drafts[lang]['id']}").json()
        lead_line = loaded["text"].split("---\n", 2)[2].split("\n", 1)[0]
        r = lead_client.put(f"/api/lead/articles/{lang}/{drafts[lang]['id']}",
                            json={"text": loaded["text"].replace(lead_line, answer), "version": loaded["version"]})
        assert r.status_code == 200, r.text
    r = lead_client.post(f"/api/lead/articles/pt/{drafts['pt']['id']}/publish")
    assert r.status_code == 200, r.text
    assert len(r.json()["changed"]) == 2 and r.json()["index"]["version"]
    hit = top(question_pt, "pt")
    assert hit["results"][0]["article_id"] == drafts["pt"]["id"], hit
    assert hit["answerable"] is True
    en_hit = top(question_en, "en")
    assert en_hit["results"][0]["article_id"] == drafts["en"]["id"], en_hit
    page = anonymous.get(f"/help/pt/{drafts['pt']['id']}")
    assert page.status_code == 200 and "não aceita bitcoin" in page.text
    assert check_folder(kb) == []


def test_draft_requests_that_cannot_work_are_clear_4xx(workspace_app, lead_client: httpx.Client,
                                                       seeded: dict[str, Any]) -> None:
    gap = gaps_of(lead_client)[0]["id"]
    for body, words in (({"langs": ["fr"]}, "language"), ({}, "language"), ({"langs": ["pt"], "category": "x"},
                                                                            "category"),
                        ({"langs": ["pt"], "titles": {"pt": "x" * 500}}, "titles")):
        r = lead_client.post(f"/api/lead/gaps/{gap}/draft", json=body)
        assert r.status_code == 422 and words in r.json()["detail"], r.text
    r = lead_client.post("/api/lead/gaps/nao-existe/draft", json={"langs": ["pt"]})
    assert r.status_code == 404 and "reload" in r.json()["detail"]
    r = lead_client.post(f"/api/lead/gaps/{gap}/draft", content=b"[1,", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    # One language is fine as a draft; it cannot be published until it has its translation.
    r = lead_client.post(f"/api/lead/gaps/{gap}/draft", json={"langs": ["pt"]})
    assert r.status_code == 200, r.text
    art = r.json()["drafts"][0]
    r = lead_client.post(f"/api/lead/articles/pt/{art['id']}/publish")
    assert r.status_code == 422
    assert any("missing or empty field 'translation'" in p for p in r.json()["problems"]), r.json()
    # The same gap again gets a new id, never overwriting the first draft.
    again = lead_client.post(f"/api/lead/gaps/{gap}/draft", json={"langs": ["pt"]}).json()["drafts"][0]
    assert again["id"] == f"{art['id']}-2"


def test_the_gap_report_on_postgresql(make_workspace_app) -> None:
    """Production runs PostgreSQL: the same report (chunked IN lists, JSON event data, the chat_messages join)."""
    from tests.handoff.conftest import fresh_pg_schema

    with fresh_pg_schema("test_gaps") as url:
        app = make_workspace_app(database_url=url)
        for lang, source, text in [*CRYPTO[2:], *STORE]:
            ask(app, lang, source, text)
        answered(app)
        gaps = gaps_of(app.login(app.lead.email))
        by_topic = {("bitcoin" in " ".join(g["examples"]).lower()): g for g in gaps}
        assert len(gaps) == 2 and by_topic[True]["customers"] == 3 and by_topic[False]["customers"] == 3
        assert by_topic[True]["languages"] == {"pt": 1, "en": 2} and by_topic[False]["languages"] == {"pt": 2, "en": 1}
        app.close()


def test_no_unanswered_questions_is_an_empty_report(workspace_app, lead_client: httpx.Client) -> None:
    answered(workspace_app)
    body = lead_client.get("/api/lead/gaps").json()
    assert body["gaps"] == [] and body["window"]["questions"] == 0 and body["window"]["window_days"] == 30
