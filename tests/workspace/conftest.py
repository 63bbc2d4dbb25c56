"""Shared fixtures of the lead-workspace tests: a real services app, a lead and an agent, temporary file copies.

Fixture names are stable (the workspace areas' tests all use them):

``workspace_paths``
    :class:`~services.workspace.config.WorkspacePaths` over temporary COPIES of bot/data, domain.yml,
    config.yml, kb_articles, tests/bot/stories (and bot/evaluation when it exists); ``models`` is an empty
    folder. Tests write there, never to the repository's files.
``workspace_app``
    :class:`WorkspaceApp`: the real services app (``services.app.create_app``) served by uvicorn in a thread
    on a free port (real HTTP and WebSockets, so a browser can use it too), on a temporary SQLite database,
    with ``app.state.workspace_config`` over ``workspace_paths``, a knowledge-base index copied from the
    repository's (``.data/index``) and built over the copied articles, every team open at any hour, and Rasa
    on a closed port (the "Rasa is down" path). Attributes: ``url``, ``app``, ``db``, ``conversations``,
    ``config``, ``lead`` and ``agent`` (``Account``: id, email, name, password), ``login(email)`` → a
    signed-in ``httpx.Client``, ``client()`` → an anonymous one, ``add_account(...)``, ``run(work)`` (a unit
    of work of :class:`services.conversations.lifecycle.Conversations`, committed, listeners dispatched).
``make_workspace_app``
    The factory behind ``workspace_app`` for a test that needs other settings, e.g.
    ``make_workspace_app(rasa_url="http://127.0.0.1:5005")`` or policy overrides
    (``policy={"teams.atendimento.hours": ...}``). Every app it made is stopped at the end of the test.
``lead_client`` / ``agent_client``
    ``httpx.Client`` (base URL = the app) signed in as ``workspace_app.lead`` (role ``lead``, every team) and
    ``workspace_app.agent`` (role ``agent``, team ``atendimento``). Requests without an ``Origin`` header pass
    the CSRF check as the console's same-site calls do.

Outside pytest, :func:`running_apps` (a context manager) builds the same apps (scripts/lead_screenshots.py).
Past conversations for a test: ``scripts.lead_demo_data.seed(app.conversations, app.chat, specs)``.
Several pytest runs at once on one machine: give each its own ``--basetemp`` (pytest keeps only the three
newest temporary roots and deletes older ones, even while another run still uses them).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
import yaml

from handoff.auth import hash_password
from handoff.models import Agent
from services.app import create_app
from services.settings import REPO_ROOT, load_settings
from services.workspace.config import Paths, WorkspaceConfig, WorkspaceFile, WorkspacePaths
from tests.handoff.conftest import INTERNAL, write_policy
from tests.handoff.server import free_port
from tests.handoff.test_console_browser import ALWAYS_OPEN

T = TypeVar("T")
PASSWORD = "senha-do-lider-123"
LEAD_EMAIL, LEAD_NAME = "lia@lumo.test", "Lia Lider"
AGENT_EMAIL, AGENT_NAME = "ana@lumo.test", "Ana Agente"
REPO_INDEX = REPO_ROOT / ".data" / "index"


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    name: str
    role: str
    password: str = PASSWORD


def copy_workspace_files(root: Path) -> WorkspacePaths:
    """Copy the files the workspace reads and writes under ``root``; the paths of those copies."""
    paths = WorkspacePaths.under(root, Paths())
    for name in Paths.model_fields:
        source = REPO_ROOT / getattr(Paths(), name)
        target: Path = getattr(paths, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir() and name != "models":
            shutil.copytree(source, target)
        elif source.is_file():
            shutil.copy2(source, target)
        else:  # models, or a folder the repository does not have yet
            target.mkdir(parents=True, exist_ok=True)
    # The articles are the search's (retrieval.yml articles_dir): each app's retrieval settings point here.
    shutil.copytree(REPO_ROOT / "kb_articles", kb_copy(paths))
    return paths


def kb_copy(paths: WorkspacePaths) -> Path:
    """The temporary copy of kb_articles beside the other copies."""
    return paths.root / "kb_articles"


def retrieval_config_over(root: Path, articles: Path) -> Path:
    """A retrieval settings file whose index and articles are temporary copies (publishing re-indexes there)."""
    from retrieval.config import DEFAULT_CONFIG

    raw = yaml.safe_load(Path(DEFAULT_CONFIG).read_text(encoding="utf-8"))
    index = root / "index"
    if REPO_INDEX.is_dir():
        shutil.copytree(REPO_INDEX, index)
    raw["articles_dir"], raw["index_dir"] = str(articles), str(index)
    path = root / "retrieval.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


_ENCODERS: dict[str, Any] = {}


def shared_encoders(settings: Any) -> Any:
    """The retrieval encoders, loaded once per test session (10 s each time otherwise); they hold no state."""
    import retrieval.index

    key = repr(settings["encoders"])
    if key not in _ENCODERS:
        _ENCODERS[key] = retrieval.index.make_encoders(settings)
    return _ENCODERS[key]


class ServerThread:
    """uvicorn serving ``app`` in a daemon thread (lifespan included), stopped by :meth:`stop`."""

    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                ws_ping_interval=20, ws_ping_timeout=20)
        self.server = uvicorn.Server(config)
        # Our own loop (not uvicorn's run()) so tests can schedule coroutines on the app's loop.
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name=f"uvicorn-{port}", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.serve())
        finally:
            self.loop.close()

    def start(self, timeout: float = 180) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the services app did not start (see the log above)")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the services app did not start in time")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(60)


class WorkspaceApp:
    """One running services app with a lead and an agent (see the module docstring)."""

    def __init__(self, app: Any, server: ServerThread, url: str, config: WorkspaceConfig) -> None:
        self.app, self.server, self.url, self.config = app, server, url, config
        self.db = app.state.db
        self.conversations = app.state.conversations
        self.chat = app.state.chat
        self._clients: list[httpx.Client] = []
        # The articles this app edits, indexes and shows (its retrieval settings' articles_dir).
        self.kb_articles = Path(app.state.search.settings.articles_dir)
        self.lead = self.add_account(LEAD_EMAIL, LEAD_NAME, "lead", ["atendimento", "suporte"])
        self.agent = self.add_account(AGENT_EMAIL, AGENT_NAME, "agent", ["atendimento"])

    def add_account(self, email: str, name: str, role: str, teams: list[str]) -> Account:
        with self.db.session() as s:
            row = Agent(email=email, name=name, password_hash=hash_password(PASSWORD), role=role, teams=teams,
                        status="offline", active=True)
            s.add(row)
            s.flush()
            return Account(row.id, email, name, role)

    def client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=60)
        self._clients.append(client)
        return client

    def login(self, email: str, password: str = PASSWORD) -> httpx.Client:
        client = self.client()
        r = client.post("/api/handoff/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return client

    def call(self, coro: Any) -> Any:
        """Run a coroutine on the app's own event loop (its hub and locks belong to that loop)."""
        return asyncio.run_coroutine_threadsafe(coro, self.server.loop).result(120)

    def run(self, work: Callable[[Any], T]) -> T:
        """``Conversations.run(work)`` on the app's loop: one transaction, then the after-commit listeners."""
        return self.call(self.conversations.run(work))

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self.server.stop()


@pytest.fixture()
def workspace_paths(tmp_path: Path) -> WorkspacePaths:
    return copy_workspace_files(tmp_path / "workspace")


@contextmanager
def running_apps(tmp_path: Path, workspace_paths: WorkspacePaths,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., WorkspaceApp]]:
    """A builder of running apps (``make_workspace_app``); every app it built is stopped on exit.

    Plain context manager, so scripts (scripts/lead_screenshots.py) start the same app as the tests.
    """
    made: list[WorkspaceApp] = []

    def build(policy: dict[str, Any] | None = None, workspace_file: WorkspaceFile | None = None,
              **settings: Any) -> WorkspaceApp:
        root = tmp_path / f"app-{len(made)}"
        root.mkdir()
        monkeypatch.setenv("INTERNAL_TOKEN", INTERNAL)
        monkeypatch.setenv("HANDOFF_POLICY", str(write_policy(root, **{**ALWAYS_OPEN, **(policy or {})})))
        monkeypatch.setenv("RETRIEVAL_CONFIG", str(retrieval_config_over(root, kb_copy(workspace_paths))))
        monkeypatch.delenv("RASA_TOKEN", raising=False)
        monkeypatch.setattr("retrieval.service.make_encoders", shared_encoders)
        values: dict[str, Any] = {"database_url": f"sqlite:///{root}/services.db", "data_dir": root,
                                  "rasa_url": f"http://127.0.0.1:{free_port()}", "rasa_timeout_seconds": 5.0,
                                  "redis_url": "", "app_env": "embedded"}
        port = free_port()
        values.setdefault("public_url", f"http://127.0.0.1:{port}")
        values.update(settings)
        app = create_app(load_settings(**values))
        config = WorkspaceConfig(file=workspace_file or WorkspaceFile(), paths=workspace_paths)
        app.state.workspace_config = config
        server = ServerThread(app, port)
        server.start()
        running = WorkspaceApp(app, server, f"http://127.0.0.1:{port}", config)
        made.append(running)
        return running

    try:
        yield build
    finally:
        for running in reversed(made):
            running.close()


@pytest.fixture()
def make_workspace_app(tmp_path: Path, workspace_paths: WorkspacePaths,
                       monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., WorkspaceApp]]:
    with running_apps(tmp_path, workspace_paths, monkeypatch) as build:
        yield build


@pytest.fixture()
def workspace_app(make_workspace_app: Callable[..., WorkspaceApp]) -> WorkspaceApp:
    return make_workspace_app()


@pytest.fixture()
def lead_client(workspace_app: WorkspaceApp) -> httpx.Client:
    return workspace_app.login(workspace_app.lead.email)


@pytest.fixture()
def agent_client(workspace_app: WorkspaceApp) -> httpx.Client:
    return workspace_app.login(workspace_app.agent.email)


os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def sign_in_console(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the console's form in a Playwright page, as a person does."""
    from playwright.sync_api import expect

    page.goto(f"{base}/console")
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.keyboard.press("Enter")
    expect(page.locator("#me-name")).not_to_be_empty()
