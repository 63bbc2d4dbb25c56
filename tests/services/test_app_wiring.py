"""The app's wiring: features are listed explicitly and a broken one stops start-up (never silently skipped)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.app import create_app, features
from services.deps import ChatDep
from services.settings import load_settings


def test_every_feature_is_listed_in_order() -> None:
    assert [f.name for f in features()] == ["kb_events", "search", "chat", "handoff", "metrics", "workspace",
                                               "privacy", "helpcenter"]


def test_a_feature_that_fails_to_import_stops_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import handoff

    # What a missing dependency of handoff looks like: the module cannot be imported.
    monkeypatch.setitem(sys.modules, "handoff.feature", None)
    monkeypatch.delattr(handoff, "feature", raising=False)
    settings = load_settings(database_url=f"sqlite:///{tmp_path}/app.db", data_dir=tmp_path, redis_url="")
    with pytest.raises(ImportError, match="handoff"):
        create_app(settings)


def test_a_missing_service_is_a_clear_503_not_an_attribute_error() -> None:
    app = FastAPI()

    @app.get("/needs-chat")
    def needs_chat(chat: ChatDep) -> dict[str, str]:
        return {"ok": str(chat)}

    response = TestClient(app).get("/needs-chat")
    assert response.status_code == 503 and "'chat'" in response.json()["detail"]
