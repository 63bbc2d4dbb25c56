"""After a restart, `make run` serves the version a lead promoted (scripts/stack.py reads the registry's pointer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.stack import REPO_ROOT, latest_model, promoted_model
from services.workspace import model_store


def test_make_run_serves_the_promoted_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    settings = tmp_path / "workspace.yml"
    settings.write_text(f"paths:\n  models: {models}\n")
    monkeypatch.setenv("WORKSPACE_SETTINGS", str(settings))
    assert promoted_model() is None  # nothing promoted yet: the model `make train` produced
    model = tmp_path / "model-0123456789abcdef.tar.gz"
    model.write_bytes(b"not really a model")
    model_store.write_pointer(models, model)
    assert promoted_model() == model.resolve()
    assert latest_model() == model.resolve()
    # an explicit folder (tests' own training cache) is not redirected
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "latest").write_text("model-x.tar.gz\n")
    assert latest_model(cache) == cache / "model-x.tar.gz"
    # a pointer to a file that is gone falls back to the trained model instead of failing to start
    model.unlink()
    assert promoted_model() is None
    if (REPO_ROOT / ".cache" / "models" / "latest").exists():
        assert latest_model().parent == REPO_ROOT / ".cache" / "models"
