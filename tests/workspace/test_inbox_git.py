"""Committing a curation round: a branch gets the changed data files; the user's HEAD, index and files stay put."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx

from services.workspace import audit
from tests.workspace.inbox_seed import new_conversation, say


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(root), "PATH": "/usr/bin:/bin"}).stdout


def test_round_commits_to_a_branch_without_touching_the_checkout(workspace_app: Any, lead_client: httpx.Client) -> None:
    root = workspace_app.config.paths.root
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    head = git(root, "rev-parse", "HEAD").strip()
    # The user has work in progress: a staged change and an unstaged one; both must survive untouched.
    (root / "domain.yml").write_text((root / "domain.yml").read_text() + "# staged\n")
    git(root, "add", "domain.yml")
    (root / "config.yml").write_text((root / "config.yml").read_text() + "# unstaged\n")
    status_before = git(root, "status", "--porcelain")

    cid = new_conversation(workspace_app)
    event = say(workspace_app, cid, "minha garantia vale pra tela trincada?", "warranty", 0.5)
    r = lead_client.post("/api/lead/inbox/label", json={"event_ids": [event], "action": "confirm"})
    assert r.json()["written"], r.text
    r = lead_client.post("/api/lead/inbox/commit")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["branch"].startswith("curation/") and body["branch"].endswith("-lia-lider")
    assert body["files"] == ["bot/data/nlu/pt.yml"] and body["examples"] == 1
    assert git(root, "rev-parse", "HEAD").strip() == head
    assert git(root, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    # Only the data file changed by the lead differs (the label made it dirty; status otherwise identical).
    assert sorted(git(root, "status", "--porcelain").splitlines()) == sorted(
        status_before.splitlines() + [" M bot/data/nlu/pt.yml"])
    assert git(root, "diff", "--cached", "--name-only").split() == ["domain.yml"]
    committed = git(root, "show", f"{body['commit']}:bot/data/nlu/pt.yml")
    assert "- minha garantia vale pra tela trincada?" in committed
    assert git(root, "rev-parse", f"{body['commit']}^").strip() == head
    assert git(root, "diff", "--name-only", head, body["commit"]).split() == ["bot/data/nlu/pt.yml"]
    assert "lia@lumo.test" in git(root, "log", "-1", "--format=%ae", body["commit"])
    entry = audit.entries(workspace_app.db, action="curation_committed")[0]
    assert entry["after"]["commit"] == body["commit"] and entry["target"] == f"branch:{body['branch']}"
    assert all(c["commit"] == body["commit"] for c in lead_client.get("/api/lead/inbox/changes").json()["changes"])
    # Nothing new: a clear refusal; a second round on the same day stacks on the branch.
    r = lead_client.post("/api/lead/inbox/commit")
    assert r.status_code == 409 and "nada para gravar" in r.json()["detail"]
    event2 = say(workspace_app, cid, "a garantia cobre bateria viciada?", "warranty", 0.5)
    assert lead_client.post("/api/lead/inbox/label", json={"event_ids": [event2], "action": "confirm"}).json()["written"]
    second = lead_client.post("/api/lead/inbox/commit").json()
    assert second["branch"] == body["branch"]
    assert git(root, "rev-parse", f"{second['commit']}^").strip() == body["commit"]


def test_not_a_git_tree_is_a_clear_message(workspace_app: Any, lead_client: httpx.Client) -> None:
    cid = new_conversation(workspace_app)
    event = say(workspace_app, cid, "quero mudar meu endereco de entrega cadastrado", "update_account", 0.5)
    assert lead_client.post("/api/lead/inbox/label", json={"event_ids": [event], "action": "confirm"}).json()["written"]
    r = lead_client.post("/api/lead/inbox/commit")
    assert r.status_code == 409 and "não está num repositório git" in r.json()["detail"]
