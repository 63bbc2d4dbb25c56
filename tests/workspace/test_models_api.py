"""The models area's API without a Rasa server: access, the registry's baseline, bad input, a failing retrain,
one job at a time, jobs left running by a dead process, and the held-back verdict's rules."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.workspace import model_store
from services.workspace.config import Retrain
from services.workspace.retrain import verdict
from tests.workspace.conftest import WorkspaceApp


def wait_job(client: httpx.Client, job_id: int, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/lead/models/jobs/{job_id}").json()["job"]
        if job["state"] != "running":
            return job
        time.sleep(1)
    raise AssertionError(f"job {job_id} still running after {timeout} s")


def test_only_leads_see_models(workspace_app: WorkspaceApp, agent_client: httpx.Client) -> None:
    assert workspace_app.client().get("/api/lead/models").status_code == 401
    assert agent_client.get("/api/lead/models").status_code == 403
    assert agent_client.post("/api/lead/models/retrain").status_code == 403


def test_the_served_model_is_version_one(lead_client: httpx.Client) -> None:
    body = lead_client.get("/api/lead/models").json()
    assert [v["id"] for v in body["versions"]] == [1]
    assert body["versions"][0]["status"] == "promoted" and body["promoted_id"] == 1
    assert body["versions"][0]["file"].endswith(".tar.gz")


@pytest.mark.parametrize("path, body, status", [
    ("/api/lead/models/99/promote", {}, 404),
    ("/api/lead/models/1/promote", {}, 409),                       # already serving customers
    ("/api/lead/models/1/rollback", {}, 409),
    ("/api/lead/models/1/promote", {"override_reason": "x" * 5000}, 422),
    ("/api/lead/models/1/promote", {"reason": "typo"}, 422),
    ("/api/lead/models/abc/promote", {}, 422),
    ("/api/lead/models/99999999999999999999/rollback", {}, 422),
    ("/api/lead/models/jobs/99999999999999999999", None, 422),
    ("/api/lead/models/jobs/12345", None, 404),
])
def test_bad_requests_are_clear_4xx(lead_client: httpx.Client, path: str, body: Any, status: int) -> None:
    response = lead_client.get(path) if body is None else lead_client.post(path, json=body)
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_malformed_json_and_binary_are_4xx(lead_client: httpx.Client) -> None:
    for content in (b"{not json", b"\x00\xff\xfe binary"):
        r = lead_client.post("/api/lead/models/1/promote", content=content,
                             headers={"Content-Type": "application/json"})
        assert r.status_code == 422, r.text


def test_promoting_with_rasa_down_changes_nothing(workspace_app: WorkspaceApp, lead_client: httpx.Client) -> None:
    """Rasa on a closed port: 502 naming the server, the registry and the pointer file stay as they were."""
    with workspace_app.db.session() as s:
        first = model_store.get_version(s, 1)
        assert first is not None
        model_store.add_version(s, Path(first.file), status=model_store.CANDIDATE)
    r = lead_client.post("/api/lead/models/2/promote", json={})
    assert r.status_code == 502, r.text
    assert "inacessível" in r.json()["detail"]
    statuses = {v["id"]: v["status"] for v in lead_client.get("/api/lead/models").json()["versions"]}
    assert statuses == {1: "promoted", 2: "candidate"}
    assert not (workspace_app.config.paths.models / model_store.POINTER).exists()


def test_a_held_back_candidate_needs_a_reason(workspace_app: WorkspaceApp, lead_client: httpx.Client) -> None:
    with workspace_app.db.session() as s:
        first = model_store.get_version(s, 1)
        assert first is not None
        model_store.add_version(s, Path(first.file), status=model_store.HELD_BACK)
    for body in ({}, {"override_reason": "   "}):
        r = lead_client.post("/api/lead/models/2/promote", json=body)
        assert r.status_code == 409 and "motivo" in r.json()["detail"], r.text


def test_a_failing_validation_fails_the_job_and_a_second_request_names_the_running_one(
        workspace_app: WorkspaceApp, lead_client: httpx.Client) -> None:
    broken = workspace_app.config.paths.bot_data / "nlu" / "broken.yml"
    broken.write_text('version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - oi\n  - [unclosed\n')
    first = lead_client.post("/api/lead/models/retrain")
    assert first.status_code == 202, first.text
    job_id = first.json()["job"]["id"]
    second = lead_client.post("/api/lead/models/retrain")
    assert second.status_code == 409 and f"treino {job_id}" in second.json()["detail"], second.text
    assert lead_client.get("/api/lead/models/jobs/current").json()["job"]["id"] == job_id
    job = wait_job(lead_client, job_id, timeout=300)
    assert job["state"] == "failed" and job["stage"] == "validate", job
    assert "validação" in job["error"]
    assert job["log"], "the page shows the last log lines"
    actions = [e["action"] for e in lead_client.get("/api/lead/audit").json()["entries"]]
    assert "retrain_started" in actions
    assert [v["id"] for v in lead_client.get("/api/lead/models").json()["versions"]] == [1]


def test_a_job_left_running_by_a_dead_process_is_failed(workspace_app: WorkspaceApp,
                                                        lead_client: httpx.Client) -> None:
    job, created = model_store.start_job(workspace_app.db, None)
    assert created
    model_store.update_job(workspace_app.db, job.id, owner=f"{model_store.owner_id().rpartition(':')[0]}:999999999")
    assert lead_client.get(f"/api/lead/models/jobs/{job.id}").json()["job"]["state"] == "running"
    model_store.fail_interrupted_jobs(workspace_app.db)  # what a restarted app does at start-up
    failed = lead_client.get(f"/api/lead/models/jobs/{job.id}").json()["job"]
    assert failed["state"] == "failed" and "reiniciou" in failed["error"]
    # a job of a live process elsewhere is only failed once its heartbeat is a minute old
    other, _ = model_store.start_job(workspace_app.db, None)
    model_store.update_job(workspace_app.db, other.id, owner="another-host:1")
    model_store.fail_interrupted_jobs(workspace_app.db)
    assert lead_client.get(f"/api/lead/models/jobs/{other.id}").json()["job"]["state"] == "running"
    with workspace_app.db.session() as s:
        row = s.get(model_store.RetrainJob, other.id)
        row.heartbeat_at = row.heartbeat_at - model_store.STALE_AFTER * 2
    assert lead_client.get(f"/api/lead/models/jobs/{other.id}").json()["job"]["state"] == "failed"


def scores(accuracy: float, macro: float, per_intent: dict[str, float], failed: list[str] | None = None) -> dict:
    return {"accuracy": accuracy, "macro_f1": macro, "per_intent_f1": per_intent,
            "stories": {"total": 3, "passed": 3 - len(failed or []), "failed": failed or []}}


def test_verdict_rules() -> None:
    tolerances = Retrain(max_accuracy_drop=0.01, max_macro_f1_drop=0.01, max_intent_f1_drop=0.15)
    current = scores(0.95, 0.95, {"a": 0.9, "b": 1.0})
    same = verdict({"current": current, "candidate": scores(0.945, 0.945, {"a": 0.8, "b": 1.0})}, tolerances)
    assert same == {"status": "ready", "reasons": [], "warnings": []}
    worse = verdict({"current": current, "candidate": scores(0.90, 0.93, {"a": 0.5, "b": 1.0})}, tolerances)
    assert worse["status"] == "held_back"
    assert any("acurácia" in r for r in worse["reasons"]) and any("'a'" in r for r in worse["reasons"])
    failing = verdict({"current": current, "candidate": scores(0.96, 0.96, {"a": 1, "b": 1}, ["story x"])},
                      tolerances)
    assert failing["status"] == "held_back" and "story x" in failing["reasons"][0]
    # a story the current model fails as well is a warning, not a reason to hold the candidate back
    both = verdict({"current": scores(0.95, 0.95, {"a": 0.9, "b": 1.0}, ["story x"]),
                    "candidate": scores(0.96, 0.96, {"a": 1, "b": 1}, ["story x"])}, tolerances)
    assert both["status"] == "ready" and "story x" in both["warnings"][0]
    lenient = Retrain(stories_must_pass=False)
    assert verdict({"current": current, "candidate": scores(0.96, 0.96, {"a": 1, "b": 1}, ["x"])},
                   lenient)["status"] == "ready"
    assert verdict({"current": None, "candidate": scores(0.5, 0.5, {"a": 0.5})}, tolerances)["status"] == "ready"


def test_every_replica_is_told_and_each_failure_named(make_workspace_app: Any) -> None:
    """Several Rasa servers (retrain.rasa_urls): each gets the model; none reachable → 502 naming each, no change."""
    from services.workspace.config import WorkspaceFile
    from tests.handoff.server import free_port

    urls = [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}/"]
    app = make_workspace_app(workspace_file=WorkspaceFile(retrain=Retrain(rasa_urls=urls)))
    lead = app.login(app.lead.email)
    with app.db.session() as s:
        first = model_store.get_version(s, 1)
        assert first is not None
        model_store.add_version(s, Path(first.file), status=model_store.CANDIDATE)
    r = lead.post("/api/lead/models/2/promote", json={})
    assert r.status_code == 502, r.text
    for url in urls:
        assert url.rstrip("/") in r.json()["detail"]
    assert {v["id"]: v["status"] for v in lead.get("/api/lead/models").json()["versions"]}[2] == "candidate"
