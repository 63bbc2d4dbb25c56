"""Conversation review over HTTP on a real app: every filter, the detail's turns in order, tags and review marks
(audited), who may call it, and bad input.

Conversations are written through the product's code paths (scripts/lead_demo_data.py: the lifecycle's units
of work, the chat gateway's turn logging); one goes through a real escalation, an agent's claim, message, note
and resolution over the handoff API, and a CSAT answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from scripts.lead_demo_data import seed
from services.db import utcnow
from tests.handoff.conftest import INTERNAL, fresh_pg_schema
from tests.workspace.conftest import WorkspaceApp

LIST = "/api/lead/review/conversations"


def _ids(client: httpx.Client, **params: Any) -> list[str]:
    r = client.get(LIST, params=params)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["conversations"]]


def _specs(now: datetime) -> dict[str, dict[str, Any]]:
    day = timedelta(days=1)
    return {
        "D": {"language": "pt", "at": now - 30 * day, "csat": 5, "turns": [
            {"text": "Meu cartão foi COBRADO duas vezes", "intent": "payment_issue", "confidence": 0.88,
             "reply": "Vou verificar."}]},
        "A": {"language": "pt", "at": now - 10 * day, "csat": 2,
              "escalate": {"reason": "frustration", "detail": "words: que absurdo", "team": "atendimento"},
              "turns": [
                  {"text": "cadê meu pedido 20481234", "intent": "order_status", "confidence": 0.93,
                   "entities": [{"entity": "order_number", "value": "20481234"}], "reply": "Está em separação.",
                   "actions": ["action_order_status"],
                   "kb": {"article_id": "rastrear-pedido", "title": "Rastrear", "url": "/ajuda/rastrear-pedido",
                          "score": 0.8}},
                  {"text": "não", "intent": "deny", "confidence": 0.99, "reply": "Poxa.",
                   "kb_feedback": ("rastrear-pedido", False)}]},
        "B": {"language": "en", "at": now - 2 * day, "turns": [
            {"text": "how do I return 50% of an order_", "intent": "return_policy", "confidence": 0.55,
             "reply": "Returns are free."}]},
        "C": {"language": "pt", "at": now - 1 * day,
              "escalate": {"reason": "repeated_fallback", "team": "suporte"},
              "turns": [{"text": "asdf qwer", "intent": "nlu_fallback", "confidence": 0.2, "reply": "Não entendi."}]},
        "E": {"language": "pt", "at": now - timedelta(hours=1), "turns": []},  # opened, never wrote: not listed
    }


@pytest.fixture()
def seeded(workspace_app: WorkspaceApp) -> dict[str, str]:
    specs = _specs(utcnow())
    ids = seed(workspace_app.conversations, workspace_app.chat, specs.values())
    return dict(zip(specs, ids, strict=True))


def test_each_filter_on_real_events(seeded: dict[str, str], lead_client: httpx.Client) -> None:
    check_filters(seeded, lead_client)


@pytest.mark.postgres
def test_each_filter_on_postgresql(make_workspace_app: Any) -> None:
    """Production runs on PostgreSQL: the JSON filters (intent, confidence, reason, helped) compile differently."""
    with fresh_pg_schema("test_review") as url:
        app = make_workspace_app(database_url=url)
        specs = _specs(utcnow())
        ids = dict(zip(specs, seed(app.conversations, app.chat, specs.values()), strict=True))
        check_filters(ids, app.login(app.lead.email))
        app.close()


def check_filters(seeded: dict[str, str], lead_client: httpx.Client) -> None:
    A, B, C, D = (seeded[k] for k in "ABCD")  # noqa: N806 - names of the specs above
    ids = lambda **p: _ids(lead_client, **p)  # noqa: E731
    assert ids() == [C, B, A, D]  # newest first; E (no customer message) is not a conversation to review
    today = utcnow().date()
    assert ids(**{"from": str(today - timedelta(days=15)), "to": str(today - timedelta(days=3))}) == [A]
    assert ids(**{"from": str(today - timedelta(days=3))}) == [C, B]
    assert ids(language="en") == [B]
    assert ids(team="suporte") == [C]
    assert ids(team="atendimento") == [A]
    assert ids(intent="order_status") == [A]
    assert ids(intent="return_policy", confidence_max="0.6") == [B]
    assert ids(intent="order_status", confidence_max="0.6") == []  # the same reading must match both
    assert ids(confidence_min="0.9") == [A]
    assert ids(confidence_min="0,5", confidence_max="0.6") == [B]  # a Brazilian decimal comma is accepted
    assert ids(fallback="true") == [C]
    assert ids(fallback="false") == [B, A, D]
    assert ids(escalated="true") == [C, A]
    assert ids(escalated="false") == [B, D]
    assert ids(reason="frustration") == [A]
    assert ids(kb_not_helped="true") == [A]
    assert ids(csat_max="2") == [A]
    assert ids(q="duas vezes") == [D]
    assert ids(q="cobrado") == [D]  # case-insensitive
    assert ids(q="50%") == [B] and ids(q="%") == [B] and ids(q="order_") == [B]  # wildcards are literal
    assert ids(q="não existe isso") == []
    assert ids(language="pt", escalated="true", csat_max="2", kb_not_helped="true") == [A]

    assert lead_client.put(f"{LIST}/{B}/tags", json={"tags": ["Entrega Atrasada", "pix"]}).status_code == 200
    assert lead_client.put(f"{LIST}/{D}/tags", json={"tags": ["pix"]}).status_code == 200
    assert lead_client.post(f"{LIST}/{D}/reviewed", json={"reviewed": True}).status_code == 200
    assert ids(tag="entrega-atrasada") == [B]
    assert ids(tag="PIX") == [B, D]  # normalised like the tags themselves
    assert lead_client.get(LIST, params=[("tag", "pix"), ("tag", "entrega-atrasada")]).json()["total"] == 1
    assert ids(reviewed="true") == [D]
    assert ids(reviewed="false") == [C, B, A]

    page = lead_client.get(LIST, params={"per_page": 3, "page": 2}).json()
    assert [c["id"] for c in page["conversations"]] == [D] and page["total"] == 4 and page["pages"] == 2

    rows = {c["id"]: c for c in lead_client.get(LIST).json()["conversations"]}
    assert rows[A]["escalation"] == {"reason": "frustration", "detail": "words: que absurdo"}
    assert rows[A]["kb_not_helped"] and rows[A]["csat"] == 2 and rows[A]["team"] == "atendimento"
    assert rows[A]["first_message"] == "cadê meu pedido 20481234" and rows[A]["messages"] == 2
    assert rows[B]["low_confidence"] and not rows[A]["low_confidence"] and rows[C]["fallbacks"] == 1
    assert rows[B]["tags"] == ["entrega-atrasada", "pix"] and rows[D]["reviewed"]["by"] == "Lia Lider"


def test_detail_shows_every_turn_in_order(workspace_app: WorkspaceApp, lead_client: httpx.Client,
                                          agent_client: httpx.Client) -> None:
    app = workspace_app
    [cid] = seed(app.conversations, app.chat, [{"language": "pt", "at": utcnow() - timedelta(minutes=5), "turns": [
        {"text": "cadê meu pedido 20481234", "intent": "order_status", "confidence": 0.93,
         "entities": [{"entity": "order_number", "value": "20481234"}], "reply": "Seu pedido está em separação.",
         "actions": ["action_order_status"],
         "kb": {"article_id": "rastrear-pedido", "title": "Rastrear pedido", "url": "/ajuda/rastrear-pedido",
                "score": 0.81}},
        {"text": "não ajudou", "intent": "deny", "confidence": 0.97, "reply": "Poxa, desculpe.",
         "kb_feedback": ("rastrear-pedido", False)},
        {"text": "<b>quero</b> um humano", "intent": "request_human", "confidence": 0.41, "reply": ""}]}])
    r = app.client().post("/api/handoff/escalations", headers={"X-Internal-Token": INTERNAL},
                          json={"conversation_id": cid, "reason": "customer_request", "events": []})
    assert r.status_code == 201, r.text
    handoff_id = r.json()["handoff_id"]
    assert agent_client.post("/api/handoff/me/status", json={"status": "online"}).status_code == 200
    assert agent_client.post(f"/api/handoff/handoffs/{handoff_id}/claim").status_code == 200
    assert agent_client.post(f"/api/handoff/handoffs/{handoff_id}/messages",
                             json={"text": "Oi, sou a Ana. Já vejo seu pedido."}).status_code == 201
    assert agent_client.post(f"/api/handoff/handoffs/{handoff_id}/notes",
                             json={"text": "cliente irritado com atraso"}).status_code == 201
    assert agent_client.post(f"/api/handoff/handoffs/{handoff_id}/resolve",
                             json={"tag": "pedido_atualizado"}).status_code == 200
    app.call(app.chat.record_csat(cid, 2, "demorou"))

    r = lead_client.get(f"{LIST}/{cid}")
    assert r.status_code == 200, r.text
    body = r.json()
    turns = body["turns"]
    kinds = [t["kind"] for t in turns]
    expected = ["conversation_opened", "customer_message", "bot_reply", "kb_answer", "customer_message",
                "bot_reply", "kb_feedback", "customer_message", "bot_reply", "escalated", "queued", "agent_joined",
                "agent_message", "note", "resolved", "csat"]
    rest = iter(kinds)
    assert all(k in rest for k in expected), kinds  # in this order (other kinds may sit between)
    assert [t["id"] for t in turns] == sorted(t["id"] for t in turns)
    customer = [t for t in turns if t["kind"] == "customer_message"]
    assert [t["text"] for t in customer] == ["cadê meu pedido 20481234", "não ajudou", "<b>quero</b> um humano"]
    first = customer[0]["reading"]
    assert first["intent"] == "order_status" and first["confidence"] == 0.93 and not first["low"]
    assert first["entities"] == [{"entity": "order_number", "value": "20481234"}]
    assert customer[2]["reading"]["low"] and customer[2]["reading"]["intent"] == "request_human"
    reply = next(t for t in turns if t["kind"] == "bot_reply")
    assert reply["text"] == "Seu pedido está em separação." and reply["reading"]["actions"] == ["action_order_status"]
    assert reply["reading"]["kb_article"]["article_id"] == "rastrear-pedido"
    assert next(t for t in turns if t["kind"] == "kb_feedback")["data"]["helped"] is False
    assert next(t for t in turns if t["kind"] == "escalated")["data"]["reason"] == "customer_request"
    agent = next(t for t in turns if t["kind"] == "agent_message")
    assert agent["text"] == "Oi, sou a Ana. Já vejo seu pedido." and agent["author"] == "Ana Agente"
    assert next(t for t in turns if t["kind"] == "note")["text"] == "cliente irritado com atraso"
    assert next(t for t in turns if t["kind"] == "resolved")["data"]["tag"] == "pedido_atualizado"
    assert next(t for t in turns if t["kind"] == "csat")["data"] == {"rating": 2, "comment": "demorou"}
    assert body["handoffs"][0]["id"] == handoff_id and body["conversation"]["csat_rating"] == 2

    # Opening it is recorded like an agent's transcript view (the console's audit shows it to leads).
    entries = lead_client.get("/api/handoff/audit", params={"agent_id": app.lead.id}).json()["entries"]
    views = [e for e in entries if e["action"] == "transcript_view"]
    assert views and views[0]["handoff_id"] == handoff_id
    assert views[0]["data"] == {"conversation_id": cid, "via": "lead_review"}


def test_tags_and_reviewed_are_audited(seeded: dict[str, str], lead_client: httpx.Client) -> None:
    cid = seeded["A"]
    r = lead_client.put(f"{LIST}/{cid}/tags", json={"tags": ["  Entrega   Atrasada ", "entrega-atrasada", "PIX"]})
    assert r.status_code == 200 and r.json() == {"tags": ["entrega-atrasada", "pix"]}
    r = lead_client.put(f"{LIST}/{cid}/tags", json={"tags": ["pix", "reembolso"]})
    assert r.json() == {"tags": ["pix", "reembolso"]}
    assert lead_client.get(f"{LIST}/{cid}").json()["tags"] == ["pix", "reembolso"]
    tagged = lead_client.get("/api/lead/audit", params={"action": "conversation_tagged"}).json()["entries"]
    assert [(e["before"], e["after"]) for e in tagged] == [
        ({"tags": ["entrega-atrasada", "pix"]}, {"tags": ["pix", "reembolso"]}),
        ({"tags": []}, {"tags": ["entrega-atrasada", "pix"]})]
    assert {e["lead_name"] for e in tagged} == {"Lia Lider"} and tagged[0]["target"] == f"conversation:{cid}"

    r = lead_client.post(f"{LIST}/{cid}/reviewed", json={"reviewed": True})
    assert r.status_code == 200 and r.json()["reviewed"]["by"] == "Lia Lider" and r.json()["reviewed"]["at"]
    assert lead_client.get(f"{LIST}/{cid}").json()["reviewed"]["by"] == "Lia Lider"
    assert lead_client.post(f"{LIST}/{cid}/reviewed", json={"reviewed": False}).json() == {"reviewed": None}
    marks = lead_client.get("/api/lead/audit", params={"action": "conversation_reviewed"}).json()["entries"]
    assert marks[0]["before"]["reviewed"]["by"] == "Lia Lider" and marks[0]["after"] == {"reviewed": None}
    assert marks[1]["before"] == {"reviewed": None} and marks[1]["after"]["reviewed"]["by"] == "Lia Lider"
    # Unchanged tags are not a change: nothing more in the log.
    lead_client.put(f"{LIST}/{cid}/tags", json={"tags": ["reembolso", "pix"]})
    assert len(lead_client.get("/api/lead/audit", params={"action": "conversation_tagged"}).json()["entries"]) == 2


def test_only_leads(seeded: dict[str, str], workspace_app: WorkspaceApp, agent_client: httpx.Client,
                    lead_client: httpx.Client) -> None:
    cid = seeded["A"]
    calls = [("GET", LIST, None), ("GET", f"{LIST}/{cid}", None), ("GET", "/api/lead/review/facets", None),
             ("PUT", f"{LIST}/{cid}/tags", {"tags": ["x"]}), ("POST", f"{LIST}/{cid}/reviewed", {"reviewed": True})]
    stranger = workspace_app.client()
    for method, url, body in calls:
        assert agent_client.request(method, url, json=body).status_code == 403, url
        assert stranger.request(method, url, json=body).status_code == 401, url
    # Another site cannot make a lead's browser write (CSRF), even with the lead's cookie.
    r = lead_client.put(f"{LIST}/{cid}/tags", json={"tags": ["x"]}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    assert lead_client.get(f"{LIST}/{cid}").json()["tags"] == [] and lead_client.get(f"{LIST}/{cid}").json()["reviewed"] is None


BAD_FILTERS = [
    ({"from": "ontem"}, "AAAA-MM-DD"), ({"from": "2026-12-10", "to": "2026-12-01"}, "depois"),
    ({"confidence_min": "alta"}, "confidence_min"), ({"confidence_max": "1.5"}, "entre 0 e 1"),
    ({"confidence_min": "nan"}, "confidence_min"),
    ({"confidence_min": "0.9", "confidence_max": "0.2"}, "mínima é maior"), ({"csat_max": "0"}, "csat_max"),
    ({"csat_max": "2.5"}, "inteiro"), ({"fallback": "talvez"}, "true ou false"), ({"reviewed": "x" * 5000}, "reviewed"),
    ({"reason": "nao_existe"}, "motivo"), ({"reason": "frustration", "escalated": "false"}, "escalonadas"),
    ({"language": "<script>"}, "idioma"), ({"team": "a b"}, "equipe"), ({"intent": "x" * 65}, "intenção"),
    ({"tag": "<b>oi</b>"}, "etiqueta"), ({"tag": "x" * 5000}, "longa demais"), ({"q": "x" * 5000}, "longo demais"),
    ({"page": "0"}, "page"), ({"per_page": "1000"}, "per_page"), ({"confidense_min": "0.2"}, "desconhecido"),
]


def test_bad_filters_answer_422_with_a_message(lead_client: httpx.Client) -> None:
    for params, says in BAD_FILTERS:
        r = lead_client.get(LIST, params=params)
        assert r.status_code == 422, (params, r.text)
        assert isinstance(r.json()["detail"], str) and says in r.json()["detail"], (params, r.json())
    # Control characters and markup in the text search are text, not errors (nothing matches them here).
    for q in ("\x00\x01\x7f", "<script>alert(1)</script>", "' OR 1=1 --"):
        r = lead_client.get(LIST, params={"q": q})
        assert r.status_code == 200, (q, r.text)


def test_bad_tag_and_review_bodies(seeded: dict[str, str], lead_client: httpx.Client) -> None:
    cid = seeded["B"]
    assert lead_client.put(f"{LIST}/{cid}/tags", json={"tags": ["ok"]}).status_code == 200
    bad = [{"tags": ["x" * 5000]}, {"tags": ["<script>alert(1)</script>"]}, {"tags": ["\x00\x01"]}, {"tags": [""]},
           {"tags": [42]}, {"tags": "pix"}, {"tags": [f"t{i}" for i in range(21)]}, {}, {"tags": [], "more": 1}]
    for body in bad:
        r = lead_client.put(f"{LIST}/{cid}/tags", json=body)
        assert r.status_code == 422, (body, r.text)
    r = lead_client.put(f"{LIST}/{cid}/tags", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert lead_client.put(f"{LIST}/{cid}/tags", json={"tags": ["<b>"]}).json()["detail"].startswith("etiqueta")
    assert lead_client.get(f"{LIST}/{cid}").json()["tags"] == ["ok"]  # nothing lost
    for body in ({"reviewed": "yes"}, {"reviewed": 1}, {}):
        assert lead_client.post(f"{LIST}/{cid}/reviewed", json=body).status_code == 422
    assert lead_client.get(f"{LIST}/no-such-conversation").status_code == 404
    assert lead_client.put(f"{LIST}/no-such-conversation/tags", json={"tags": ["a"]}).status_code == 404
    assert lead_client.post(f"{LIST}/no-such-conversation/reviewed", json={"reviewed": True}).status_code == 404
    assert lead_client.get(f"{LIST}/{'x' * 65}").status_code == 422
    assert lead_client.get("/api/lead/audit", params={"action": "conversation_reviewed"}).json()["entries"] == []


def test_facets_offer_what_the_log_holds(seeded: dict[str, str], lead_client: httpx.Client) -> None:
    lead_client.put(f"{LIST}/{seeded['A']}/tags", json={"tags": ["pix"]})
    facets = lead_client.get("/api/lead/review/facets").json()
    assert facets["languages"] == ["en", "pt"] and facets["teams"] == ["atendimento", "suporte"]
    assert {"order_status", "return_policy", "nlu_fallback"} <= set(facets["intents"])
    assert "frustration" in facets["reasons"] and facets["tags"] == [{"tag": "pix", "count": 1}]


def test_erasing_a_customer_removes_the_review_too(seeded: dict[str, str], workspace_app: WorkspaceApp,
                                                    lead_client: httpx.Client) -> None:
    """Tags and review marks hang off the conversation: erasing the customer's data (LGPD) takes them along."""
    from services.privacy.subject import SubjectData

    cid = seeded["A"]
    lead_client.put(f"{LIST}/{cid}/tags", json={"tags": ["pix"]})
    lead_client.post(f"{LIST}/{cid}/reviewed", json={"reviewed": True})
    outcome = SubjectData(workspace_app.db).erase([cid])
    assert outcome.rows.get("review_tags") == 1 and outcome.rows.get("review_marks") == 1, outcome.rows
    assert lead_client.get(f"{LIST}/{cid}").status_code == 404
    assert cid not in _ids(lead_client) and _ids(lead_client, tag="pix") == []
