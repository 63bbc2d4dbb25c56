"""The NLU inbox through its HTTP API on a real app: real event log, real encoder, real files (temp copies)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from services.workspace import audit
from services.workspace.training_data import known_examples
from tests.workspace.inbox_seed import escalate, new_conversation, raw_turn, say


def inbox(client: httpx.Client, **params: Any) -> dict[str, Any]:
    r = client.get("/api/lead/inbox", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def messages_of(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {m["event_id"]: m for g in body["groups"] for m in g["messages"]}


def group_of(body: dict[str, Any], event_id: int) -> dict[str, Any]:
    return next(g for g in body["groups"] if any(m["event_id"] == event_id for m in g["messages"]))


@pytest.fixture()
def seeded(workspace_app: Any) -> dict[str, int]:
    app = workspace_app
    ids: dict[str, int] = {}
    a = new_conversation(app)
    ids["known"] = say(app, a, "oi", "greet", 0.99)  # already a training example: never in the inbox
    ids["low"] = say(app, a, "onde esta minha encomenda 20481234", "order_status", 0.45)
    b = new_conversation(app)
    ids["fallback"] = say(app, b, "blablabla xpto zzz", "nlu_fallback", 0.3)
    c = new_conversation(app)
    ids["kb"] = say(app, c, "meu fone nao pareia com o celular de jeito nenhum", "device_pairing", 0.8,
                    kb={"asked": "helped", "article_id": "parear-fone", "title": "Parear", "url": "/x", "score": 0.7})
    ids["button"] = say(app, c, "Não ajudou", "deny", 1.0, button="/deny",
                        kb={"feedback": "not_helped", "article_id": "parear-fone"})
    d = new_conversation(app, "en")
    ids["escalated"] = say(app, d, "i keep getting charged twice for the same order", "payment_failed", 0.9)
    escalate(app, d)
    e = new_conversation(app)
    ids["new"] = say(app, e, "voces abrem no feriado de natal na loja fisica", "pre_sale_question", 0.93)
    f = new_conversation(app)
    ids["dup"] = say(app, f, "onde esta a minha encomenda 30577812?", "order_status", 0.5)
    return ids


def test_inbox_lists_unseen_messages_worst_first_with_reasons_and_groups(lead_client: httpx.Client,
                                                                          seeded: dict[str, int]) -> None:
    body = inbox(lead_client)
    found = messages_of(body)
    assert seeded["known"] not in found and seeded["button"] not in found
    assert found[seeded["fallback"]]["reasons"] == ["fallback"]
    assert found[seeded["kb"]]["reasons"] == ["kb_not_helped"]
    assert found[seeded["escalated"]]["reasons"] == ["escalated"]
    assert found[seeded["escalated"]]["language"] == "en"
    assert found[seeded["low"]]["reasons"] == ["low_confidence"]
    assert found[seeded["new"]]["reasons"] == ["new"]
    low = found[seeded["low"]]
    assert (low["intent"], low["confidence"], low["text"]) == ("order_status", 0.45, "onde esta minha encomenda 20481234")
    assert low["conversation_id"] and low["created_at"].endswith("Z")
    firsts = [g["reasons"][0] for g in body["groups"]]
    assert firsts == sorted(firsts, key=["fallback", "kb_not_helped", "escalated", "low_confidence", "new"].index)
    assert firsts[0] == "fallback"
    # The two order questions are one group, suggested as what the bot predicted for them.
    group = group_of(body, seeded["low"])
    assert {m["event_id"] for m in group["messages"]} == {seeded["low"], seeded["dup"]}
    assert group["size"] == 2 and group["suggested_intent"] == "order_status"
    assert group_of(body, seeded["new"])["size"] == 1
    # Filters.
    assert set(messages_of(inbox(lead_client, language="en"))) == {seeded["escalated"]}
    assert set(messages_of(inbox(lead_client, reason="fallback"))) == {seeded["fallback"]}
    assert lead_client.get("/api/lead/inbox", params={"reason": "x"}).status_code == 422


def test_confirm_a_group_writes_de_identified_examples_and_they_leave_the_inbox(
        workspace_app: Any, lead_client: httpx.Client, seeded: dict[str, int]) -> None:
    pt = workspace_app.config.paths.bot_data / "nlu" / "pt.yml"
    before = pt.read_text(encoding="utf-8")
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [seeded["low"], seeded["dup"]],
                                                        "action": "confirm", "intent": "order_status"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["refused"] == [] and body["ignored"] == 0
    texts = {w["text"] for w in body["written"]}
    assert texts == {"onde esta minha encomenda [10002000](order_number)",
                     "onde esta a minha encomenda [10002000](order_number)?"}
    assert {w["file"] for w in body["written"]} == {"bot/data/nlu/pt.yml"}
    after = pt.read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert len(added) == 2 and not any("20481234" in line or "30577812" in line for line in added)
    # Comments and order kept: the old file is the new one minus the two inserted lines.
    removed = [line for line in after.splitlines() if "encomenda [10002000]" not in line]
    assert removed == before.splitlines()
    data = yaml.safe_load(after)
    block = next(i["examples"] for i in data["nlu"] if i.get("intent") == "order_status")
    assert "- onde esta minha encomenda [10002000](order_number)" in block
    assert known_examples(workspace_app.config.paths.bot_data)["onde esta minha encomenda 10002000"] == "order_status"
    found = messages_of(inbox(lead_client))
    assert seeded["low"] not in found and seeded["dup"] not in found
    entries = audit.entries(workspace_app.db, action="example_added")
    assert len(entries) == 2 and entries[0]["lead_name"] == workspace_app.lead.name
    assert entries[0]["after"]["intent"] == "order_status" and entries[0]["after"]["replaced"] == ["order"]
    changes = lead_client.get("/api/lead/inbox/changes").json()["changes"]
    assert {c["text"] for c in changes} == texts and all(c["lead_name"] == workspace_app.lead.name for c in changes)
    # Labelling the same message again is refused, not written twice.
    again = lead_client.post("/api/lead/inbox/label", json={"event_ids": [seeded["low"]], "action": "intent",
                                                            "intent": "delivery_problem"}).json()
    assert again["written"] == [] and "já foi decidida" in again["refused"][0]["reason"]


def test_relabel_out_of_scope_and_ignore(workspace_app: Any, lead_client: httpx.Client,
                                         seeded: dict[str, int]) -> None:
    en = workspace_app.config.paths.bot_data / "nlu" / "en.yml"
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [seeded["escalated"]], "action": "intent",
                                                        "intent": "payment_failed"})
    assert r.json()["written"] == [{"event_id": seeded["escalated"], "text": "i keep getting charged twice for the same order",
                                    "intent": "payment_failed", "file": "bot/data/nlu/en.yml"}]
    assert "- i keep getting charged twice for the same order" in en.read_text(encoding="utf-8")
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [seeded["fallback"]], "action": "out_of_scope"})
    assert r.json()["written"][0]["intent"] == "out_of_scope"
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [seeded["new"]], "action": "ignore"})
    assert r.json() == {"written": [], "refused": [], "ignored": 1, "unchanged": []}
    assert seeded["new"] not in messages_of(inbox(lead_client))
    ignored = audit.entries(workspace_app.db, action="example_ignored")
    assert ignored[0]["target"] == f"event:{seeded['new']}" and ignored[0]["after"] == {"ignored": True}


def test_unknown_intent_is_422_naming_it_and_bad_bodies_are_4xx(lead_client: httpx.Client,
                                                               seeded: dict[str, int]) -> None:
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [seeded["low"]], "action": "intent",
                                                        "intent": "pedir_pizza"})
    assert r.status_code == 422 and "pedir_pizza" in r.json()["detail"]
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [seeded["low"]], "action": "intent"})
    assert r.status_code == 422 and "intenção" in r.json()["detail"]
    for bad in ({"event_ids": [], "action": "ignore"}, {"event_ids": [1], "action": "delete"},
                {"event_ids": ["x"], "action": "ignore"}, {"event_ids": [1], "action": "intent", "intent": "<b>x</b>"},
                {"event_ids": [1], "action": "intent", "intent": "x" * 65}):
        assert lead_client.post("/api/lead/inbox/label", json=bad).status_code == 422, bad
    r = lead_client.post("/api/lead/inbox/label", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [999999], "action": "ignore"})
    assert r.status_code == 200 and "não existe" in r.json()["refused"][0]["reason"]
    intents = lead_client.get("/api/lead/inbox/intents").json()
    assert "order_status" in intents["intents"] and intents["out_of_scope"] in intents["intents"]


def test_text_in_another_intent_is_refused_naming_it_same_intent_is_a_no_op(
        workspace_app: Any, lead_client: httpx.Client) -> None:
    cid = new_conversation(workspace_app)
    hello = say(workspace_app, cid, "Bom   DIA", "complain", 0.4)  # "bom dia" is a greet example
    pt = workspace_app.config.paths.bot_data / "nlu" / "pt.yml"
    before = pt.read_text(encoding="utf-8")
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [hello], "action": "confirm"}).json()
    assert r["written"] == [] and r["refused"][0]["reason"] == "este texto já é exemplo da intenção 'greet'"
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [hello], "action": "intent",
                                                        "intent": "greet"}).json()
    assert r["written"] == [] and r["refused"] == [] and r["unchanged"][0]["intent"] == "greet"
    # A held-out evaluation message (bot/evaluation) never becomes training data.
    held = say(workspace_app, cid, "Eae, bom dia", "greet", 0.5)
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [held], "action": "confirm"}).json()
    assert r["written"] == [] and "bot/evaluation" in r["refused"][0]["reason"]
    assert pt.read_text(encoding="utf-8") == before


def test_bad_texts_are_refused_with_a_clear_reason_and_nothing_is_written(
        workspace_app: Any, lead_client: httpx.Client) -> None:
    cid = new_conversation(workspace_app)
    long_id = raw_turn(workspace_app, cid, "quero cancelar " + "a" * 4985, "cancel_order", 0.3)
    empty_id = raw_turn(workspace_app, cid, "   ", "cancel_order", 0.3)
    control_id = raw_turn(workspace_app, cid, "cancelar\x07 pedido", "cancel_order", 0.3)
    html_id = say(workspace_app, cid, "<b>quero</b> cancelar <script>alert(1)</script>", "cancel_order", 0.3)
    markup_id = say(workspace_app, cid, "cancelar [isso](order_number)", "cancel_order", 0.3)
    symbols_id = say(workspace_app, cid, "?!?! ...", "cancel_order", 0.3)
    nlu = workspace_app.config.paths.bot_data / "nlu"
    before = {p.name: p.read_text(encoding="utf-8") for p in nlu.glob("*.yml")}
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [long_id, empty_id, control_id, html_id, markup_id, symbols_id],
                                                        "action": "confirm"})
    assert r.status_code == 200
    reasons = {x["event_id"]: x["reason"] for x in r.json()["refused"]}
    assert r.json()["written"] == []
    assert "5000 caracteres" in reasons[long_id] and "300" in reasons[long_id]
    assert "vazia" in reasons[empty_id]
    assert "controle" in reasons[control_id]
    assert "HTML" in reasons[html_id]
    assert "marcação" in reasons[markup_id]
    assert "letras" in reasons[symbols_id]
    assert {p.name: p.read_text(encoding="utf-8") for p in nlu.glob("*.yml")} == before


def test_personal_data_is_replaced_before_anything_is_written(workspace_app: Any, lead_client: httpx.Client) -> None:
    cid = new_conversation(workspace_app)
    text = "meu cpf 529.982.247-25, email joao.pessoa@gmail.com, cel (21) 98877-6655, pedido #73519046 nao chegou"
    event = say(workspace_app, cid, text, "delivery_problem", 0.4)
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [event], "action": "confirm"}).json()
    written = r["written"][0]["text"]
    assert written == ("meu cpf [123.456.789-09](cpf), email [cliente@exemplo.com](email), cel (11) 91234-5678, "
                       "pedido [#10002000](order_number) nao chegou")
    nlu = (workspace_app.config.paths.bot_data / "nlu" / "pt.yml").read_text(encoding="utf-8")
    for secret in ("529.982.247-25", "joao.pessoa", "98877-6655", "73519046"):
        assert secret not in nlu
    entry = audit.entries(workspace_app.db, action="example_added")[0]
    for secret in ("529.982.247-25", "joao.pessoa@gmail.com", "98877-6655"):
        assert secret not in str(entry)
    assert sorted(entry["after"]["replaced"]) == ["cpf", "email", "order", "phone"]


def test_two_leads_labelling_at_once_both_land(workspace_app: Any, lead_client: httpx.Client) -> None:
    other = workspace_app.add_account("rui@lumo.test", "Rui Lider", "lead", ["atendimento"])
    other_client = workspace_app.login(other.email)
    cid = new_conversation(workspace_app)
    first = [say(workspace_app, cid, f"quero trocar o produto numero {i} que veio errado", "exchange_product", 0.5)
             for i in range(6)]
    second = [say(workspace_app, cid, f"preciso devolver o item {i} que nao gostei", "return_product", 0.5)
              for i in range(6)]
    results: dict[str, Any] = {}
    barrier = threading.Barrier(2)

    def post(name: str, client: httpx.Client, ids: list[int]) -> None:
        barrier.wait()
        for event_id in ids:  # one request each: many interleaved read-modify-writes of the same file
            results.setdefault(name, []).append(client.post("/api/lead/inbox/label", json={
                "event_ids": [event_id], "action": "confirm"}).json())

    threads = [threading.Thread(target=post, args=("a", lead_client, first)),
               threading.Thread(target=post, args=("b", other_client, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(len(r["written"]) == 1 for name in "ab" for r in results[name]), results
    known = known_examples(workspace_app.config.paths.bot_data)
    for i in range(6):
        assert known[f"quero trocar o produto numero {i} que veio errado"] == "exchange_product"
        assert known[f"preciso devolver o item {i} que nao gostei"] == "return_product"


def test_agents_get_403_and_strangers_401(workspace_app: Any, agent_client: httpx.Client) -> None:
    assert agent_client.get("/api/lead/inbox").status_code == 403
    assert agent_client.post("/api/lead/inbox/label", json={"event_ids": [1], "action": "ignore"}).status_code == 403
    assert agent_client.post("/api/lead/inbox/commit").status_code == 403
    assert workspace_app.client().get("/api/lead/inbox/intents").status_code == 401


def test_cross_site_label_is_refused(workspace_app: Any, lead_client: httpx.Client) -> None:
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [1], "action": "ignore"},
                         headers={"Origin": "https://evil.example"})
    assert r.status_code == 403


def test_repository_files_untouched() -> None:
    """The tests above wrote only to temporary copies (the repository's data has none of their texts)."""
    repo_nlu = Path(__file__).resolve().parents[2] / "bot" / "data" / "nlu"
    text = "".join(p.read_text(encoding="utf-8") for p in repo_nlu.glob("*.yml"))
    assert "blablabla" not in text and "10002000" not in text


def test_list_and_label_on_postgresql(make_workspace_app: Any) -> None:
    """Production runs on PostgreSQL: the same list, label and duplicate-decision refusal there."""
    from tests.handoff.conftest import fresh_pg_schema

    with fresh_pg_schema("test_inbox") as url:
        app = make_workspace_app(database_url=url)
        client = app.login(app.lead.email)
        cid = new_conversation(app)
        first = say(app, cid, "onde esta minha encomenda 20481234", "order_status", 0.45)
        second = say(app, new_conversation(app), "onde esta a minha encomenda 30577812?", "order_status", 0.5)
        fallback = say(app, cid, "blablabla xpto zzz", "nlu_fallback", 0.3)
        body = inbox(client)
        assert body["groups"][0]["messages"][0]["event_id"] == fallback
        assert {m["event_id"] for m in group_of(body, first)["messages"]} == {first, second}
        r = client.post("/api/lead/inbox/label", json={"event_ids": [first, second], "action": "confirm"}).json()
        assert len(r["written"]) == 2, r
        again = client.post("/api/lead/inbox/label", json={"event_ids": [first], "action": "ignore"}).json()
        assert again["ignored"] == 0 and "já foi decidida" in again["refused"][0]["reason"]
        assert set(messages_of(inbox(client))) == {fallback}
        app.close()


def test_warm_up_embeds_the_pending_messages_and_stops_when_asked(workspace_app: Any, seeded: dict[str, int]) -> None:
    from services.workspace import api_inbox

    app = workspace_app.app
    _, forms = api_inbox.pending(workspace_app.db, workspace_app.config)
    assert "onde esta minha encomenda 10002000" in forms  # grouped by the de-identified text
    stopped = threading.Event()
    stopped.set()
    app.state.inbox_vectors = None
    api_inbox._warm_up(app, stopped)
    assert len(app.state.inbox_vectors._items) == 0
    api_inbox._warm_up(app, threading.Event())
    assert set(app.state.inbox_vectors._items) == set(forms)
