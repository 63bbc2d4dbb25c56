"""Import boundaries (pyproject.toml ``[tool.importlinter]``), checked with import-linter on every test run.

Why: bot/ runs in Rasa's Python 3.10 and cannot import the services' packages; the conversation lifecycle must
not depend on the features that subscribe to it. A contract that is never run is a comment, so ``make test``
runs it, and a second test shows that a forbidden import really fails the check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_project_keeps_its_import_contracts() -> None:
    result = lint(REPO_ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_a_forbidden_import_fails_the_check(tmp_path: Path) -> None:
    for package in ("bot", "services", "handoff", "retrieval", "textnorm", "texts", "embeddings", "pii"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for sub in ("conversations", "chat", "helpcenter"):
        (tmp_path / "services" / sub).mkdir()
        (tmp_path / "services" / sub / "__init__.py").write_text("")
    (tmp_path / "bot" / "sneaky.py").write_text("from handoff import policy  # the other Python\n")
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "bot.sneaky -> handoff" in result.stdout
