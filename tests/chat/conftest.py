"""Fixtures for the chat gateway tests: the real services app in-process, on its own SQLite file.

Rasa is deliberately pointed at a closed port here, so these tests exercise the real failure path
(message stored first, friendly notice after). Tests that need the real bot use the ``stack`` fixture.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.app import create_app
from services.settings import load_settings


def closed_port() -> int:
    """A port nothing listens on (bound then released), for 'Rasa is down'."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'services.db'}", data_dir=tmp_path,
                             rasa_url=f"http://127.0.0.1:{closed_port()}", rasa_timeout_seconds=3.0,
                             secret_key="test-secret-key-for-chat-tests", redis_url="")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def open_session(client: TestClient, lang: str = "pt") -> str:
    response = client.post("/api/chat/session", json={"lang": lang})
    assert response.status_code == 200, response.text
    return response.json()["token"]
