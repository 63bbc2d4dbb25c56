"""Commit a lead's curation round to ``curation/<yyyy-mm-dd>-<lead>`` without touching the user's checkout.

Why plumbing (a temporary ``GIT_INDEX_FILE``, ``hash-object``, ``write-tree``, ``commit-tree``, ``update-ref``)
instead of ``git checkout -b`` + ``git commit``: the bot folder is usually someone's working copy; switching its
branch or staging into its index would disturb whatever they are doing. The round's commit takes the data files
as they are on disk now, on top of the branch (or of HEAD when the branch is new), and only moves that branch.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from services.db import Database, utcnow
from services.workspace import audit, curation_store
from services.workspace.config import WorkspaceConfig
from textnorm import fold

ZERO = "0" * 40


class RoundError(RuntimeError):
    """Nothing to commit, not a git work tree, or git refused: the message says which."""


def _git(args: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    run = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **(env or {})}, input=stdin,
                         capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        raise RoundError(f"git {args[0]} falhou: {run.stderr.strip() or run.stdout.strip()}")
    return run.stdout.strip()


def work_tree(folder: Path) -> Path:
    """The top of the git work tree holding ``folder``, or :class:`RoundError` in plain words."""
    run = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=folder, capture_output=True, text=True,
                         timeout=30)
    if run.returncode != 0 or not run.stdout.strip():
        raise RoundError(f"a pasta de dados do bot ({folder}) não está num repositório git; "
                         "copie os arquivos alterados manualmente ou inicialize um repositório")
    return Path(run.stdout.strip())


def branch_name(lead_name: str, when: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold(lead_name)).strip("-")[:40] or "lider"
    return f"curation/{when}-{slug}"


def commit_files(top: Path, files: list[Path], branch: str, message: str, author: tuple[str, str]) -> tuple[str, str]:
    """Commit the files' current content onto ``branch``; (new commit, previous tip or ZERO)."""
    ref = f"refs/heads/{branch}"
    check = subprocess.run(["git", "check-ref-format", ref], cwd=top, capture_output=True, timeout=30)
    if check.returncode != 0:
        raise RoundError(f"nome de branch inválido: {branch}")
    tip = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=top,
                         capture_output=True, text=True, timeout=30).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd=top,
                          capture_output=True, text=True, timeout=30).stdout.strip()
    parent = tip or head
    name, email = author
    ident = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
             "GIT_COMMITTER_EMAIL": email}
    with tempfile.TemporaryDirectory(prefix="lumo-curation-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), **ident}
        if parent:
            _git(["read-tree", parent], top, env)
        else:
            _git(["read-tree", "--empty"], top, env)
        for path in files:
            rel = path.resolve().relative_to(top.resolve()).as_posix()
            blob = _git(["hash-object", "-w", "--", str(path)], top, env)
            _git(["update-index", "--add", "--cacheinfo", f"100644,{blob},{rel}"], top, env)
        tree = _git(["write-tree"], top, env)
        parents = ["-p", parent] if parent else []
        commit = _git(["commit-tree", tree, *parents], top, env, stdin=message)
        _git(["update-ref", "-m", "lumo curation round", ref, commit, tip or ZERO], top, env)
    return commit, tip or ZERO


def commit_round(db: Database, config: WorkspaceConfig, lead: Any) -> dict[str, Any]:
    """Commit the data files this lead changed since their last round; audit ``curation_committed``."""
    top = work_tree(config.paths.bot_data)
    with db.session() as s:
        records = curation_store.uncommitted(s, getattr(lead, "id", None))
        if not records:
            raise RoundError("nada para gravar: nenhum exemplo novo seu desde a última rodada")
        files = sorted({config.paths.root / r.file if not Path(r.file or "").is_absolute() else Path(r.file or "")
                        for r in records if r.file})
        outside = [f for f in files if not f.resolve().is_relative_to(top.resolve())]
        if outside:
            raise RoundError(f"{outside[0]} está fora do repositório git {top}")
        branch = branch_name(getattr(lead, "name", "") or "", utcnow().strftime("%Y-%m-%d"))
        intents = sorted({r.intent for r in records if r.intent})
        message = (f"Curadoria NLU: {len(records)} exemplo(s) em {', '.join(intents)}\n\n"
                   f"Rodada de curadoria da caixa de NLU por {getattr(lead, 'name', '')}.\n" +
                   "".join(f"- {r.intent}: {r.text}\n" for r in records))
        email = getattr(lead, "email", None) or "lead@lumo.invalid"
        commit, previous = commit_files(top, files, branch, message, (getattr(lead, "name", "") or "lead", email))
        curation_store.mark_committed(s, [r.id for r in records], commit, branch)
        rel_files = [f.resolve().relative_to(top.resolve()).as_posix() for f in files]
        audit.add(s, "curation_committed", lead, f"branch:{branch}", {"branch_tip": previous},
                  {"commit": commit, "branch": branch, "files": rel_files, "examples": len(records)})
    return {"branch": branch, "commit": commit, "files": rel_files, "examples": len(records)}
