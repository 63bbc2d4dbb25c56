"""Retrain, compare, promote and roll back against a real Rasa server (its own stack: tests/stack.py).

One test walks the lead's whole loop so the suite trains only twice (each training costs a minute or more on two
cores; Rasa's cache reuses the unchanged parts): a candidate with one new example is judged, promoted (Rasa
answers with it; a conversation started before continues), rolled back (the earlier answers return); then a
candidate with one intent's examples relabelled is held back, refused without a reason, released with one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.stack import Stack
from services.workspace import model_store
from tests.chat.test_with_rasa import say, session
from tests.stack import start_stack
from tests.workspace.conftest import WorkspaceApp
from tests.workspace.test_models_api import wait_job

pytestmark = [pytest.mark.slow]

# The bot falls back on this today; a lead labels it in the inbox as a charging (cable) problem.
NEW_EXAMPLE, NEW_INTENT = "meu pet mordeu o cabo do fone", "device_not_charging"
LOAD_TIMEOUT = 300  # Rasa loading a model takes a minute on a busy two-core machine


@pytest.fixture(scope="module")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of our own: promoting changes the model, which must not leak into other tests' shared stack."""
    stack = start_stack(tmp_path_factory.mktemp("models-stack"))
    try:
        yield stack
    finally:
        stack.stop()


def rasa(stack: Stack, method: str, path: str, **kwargs: Any) -> httpx.Response:
    response = httpx.request(method, f"{stack.rasa_url}{path}", params={"token": stack.rasa_token}, timeout=90,
                             **kwargs)
    assert response.status_code == 200, response.text
    return response


def intent_of(stack: Stack, text: str) -> str:
    return rasa(stack, "POST", "/model/parse", json={"text": text}).json()["intent"]["name"]


def served(stack: Stack) -> str:
    return Path(rasa(stack, "GET", "/status").json()["model_file"]).name


def add_example(nlu_file: Path, intent: str, text: str) -> None:
    """What the NLU inbox writes: one more example of an existing intent (a block Rasa merges with the other)."""
    with nlu_file.open("a", encoding="utf-8") as f:
        f.write(f"\n  - intent: {intent}\n    examples: |\n      - {text}\n")


def relabel(nlu_file: Path, intent: str, as_intent: str) -> None:
    """A bad curation round: every example of ``intent`` now says ``as_intent``."""
    text = nlu_file.read_text(encoding="utf-8")
    assert f"  - intent: {intent}\n" in text
    nlu_file.write_text(text.replace(f"  - intent: {intent}\n", f"  - intent: {as_intent}\n"), encoding="utf-8")


def retrain(lead: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    r = lead.post("/api/lead/models/retrain")
    assert r.status_code == 202, r.text
    job = wait_job(lead, r.json()["job"]["id"], timeout=900)
    assert job["state"] == "finished", job
    version = next(v for v in lead.get("/api/lead/models").json()["versions"] if v["id"] == job["version_id"])
    return job, version


def audit_actions(lead: httpx.Client) -> list[str]:
    return [e["action"] for e in lead.get("/api/lead/audit").json()["entries"]]


def test_retrain_promote_rollback_and_hold_back(rasa_stack: Stack, make_workspace_app: Callable[..., WorkspaceApp],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    stack = rasa_stack
    app = make_workspace_app(rasa_url=stack.rasa_url, rasa_token=stack.rasa_token)
    lead = app.login(app.lead.email)
    [first] = lead.get("/api/lead/models").json()["versions"]
    assert first["status"] == "promoted" and served(stack) == first["file"]
    before = intent_of(stack, NEW_EXAMPLE)
    assert before != NEW_INTENT, "the test needs a message the current model gets wrong"
    # a customer is in the middle of the order form when the model changes
    token = session(stack, "pt")
    asked = [m["text"] for m in say(stack, token, "quero acompanhar meu pedido") if m["role"] == "bot"]
    assert asked, "the bot answered"

    # 1. one new example → a candidate that is not worse → ready; promoting it makes Rasa answer with it
    nlu = app.config.paths.bot_data / "nlu"
    add_example(nlu / "pt.yml", NEW_INTENT, NEW_EXAMPLE)
    clicked = time.monotonic()
    job, good = retrain(lead)
    assert good["status"] == "candidate" and good["verdict"]["status"] == "ready", good["verdict"]
    assert good["changes"]["intent_counts"] == {NEW_INTENT: 1}, good["changes"]
    evaluation = good["evaluation"]
    assert evaluation["current"]["model"].endswith(first["file"]) and evaluation["held_out"]["count"] >= 300
    # no story that passed with the current model fails with the candidate
    assert set(evaluation["candidate"]["stories"]["failed"]) <= set(evaluation["current"]["stories"]["failed"])
    promoted_at = time.monotonic()
    r = lead.post(f"/api/lead/models/{good['id']}/promote", timeout=LOAD_TIMEOUT, json={})
    assert r.status_code == 200 and r.json()["failed"] == [], r.text
    done = time.monotonic()
    with capsys.disabled():
        print(f"\nretrain→promoted {done - clicked:.0f} s: {job['stage_seconds']}, "
              f"promote {done - promoted_at:.1f} s")
    assert served(stack) == good["file"]
    assert intent_of(stack, NEW_EXAMPLE) == NEW_INTENT
    assert model_store.read_pointer(app.config.paths.models).name == good["file"]
    # the conversation started on the old model continues on the new one: the form gets its number
    replies = [m["text"] for m in say(stack, token, "20481234") if m["role"] == "bot"]
    assert any("20481234" in text for text in replies), (asked, replies)

    # 2. rolling back is one action and restores the earlier model's answers
    r = lead.post(f"/api/lead/models/{first['id']}/rollback", timeout=LOAD_TIMEOUT, json={})
    assert r.status_code == 200, r.text
    assert served(stack) == first["file"] and intent_of(stack, NEW_EXAMPLE) == before
    statuses = {v["id"]: v["status"] for v in lead.get("/api/lead/models").json()["versions"]}
    assert statuses[first["id"]] == "promoted" and statuses[good["id"]] == "retired"

    # 3. a worse candidate (one intent's examples relabelled) is held back and needs a reason
    for lang in ("pt", "en"):
        relabel(nlu / f"{lang}.yml", "warranty", "return_product")
    _, worse = retrain(lead)
    assert worse["status"] == "held_back", worse["verdict"]
    assert any("'warranty'" in reason for reason in worse["verdict"]["reasons"]), worse["verdict"]
    changed = worse["evaluation"]["changed"]
    assert any(c["expected"] == "warranty" and c["after"] == "return_product" for c in changed)
    r = lead.post(f"/api/lead/models/{worse['id']}/promote", timeout=LOAD_TIMEOUT, json={})
    assert r.status_code == 409 and served(stack) == first["file"]
    r = lead.post(f"/api/lead/models/{worse['id']}/promote", timeout=LOAD_TIMEOUT,
                  json={"override_reason": "teste: liberar mesmo assim para a campanha"})
    assert r.status_code == 200 and served(stack) == worse["file"], r.text
    actions = audit_actions(lead)
    for action in ("retrain_started", "model_promoted", "model_rolled_back", "candidate_held_back", "override"):
        assert action in actions, (action, actions)
    r = lead.post(f"/api/lead/models/{first['id']}/rollback", timeout=LOAD_TIMEOUT, json={})
    assert r.status_code == 200 and served(stack) == first["file"], r.text


def test_one_replica_down_is_reported_the_others_serve(rasa_stack: Stack,
                                                        make_workspace_app: Callable[..., WorkspaceApp]) -> None:
    """Two Rasa URLs, one of them down: the live one loads the version, the page is told which one failed."""
    from services.workspace.config import Retrain, WorkspaceFile
    from tests.handoff.server import free_port

    stack = rasa_stack
    down = f"http://127.0.0.1:{free_port()}"
    app = make_workspace_app(rasa_url=stack.rasa_url, rasa_token=stack.rasa_token,
                             workspace_file=WorkspaceFile(retrain=Retrain(rasa_urls=[stack.rasa_url, down])))
    lead = app.login(app.lead.email)
    with app.db.session() as s:  # the same archive as a second version: loading it is quick, the answers equal
        first = model_store.get_version(s, 1)
        assert first is not None
        second = model_store.add_version(s, Path(first.file), status=model_store.CANDIDATE).id
    r = lead.post(f"/api/lead/models/{second}/promote", timeout=LOAD_TIMEOUT, json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [f["url"] for f in body["failed"]] == [down] and "inacessível" in body["failed"][0]["error"]
    assert [s["ok"] for s in body["servers"]] == [True, False]
    assert served(stack) == Path(first.file).name
    statuses = {v["id"]: v["status"] for v in lead.get("/api/lead/models").json()["versions"]}
    assert statuses == {1: "retired", second: "promoted"}
