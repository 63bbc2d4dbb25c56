"""The services app served for real (uvicorn, HTTP + WebSocket) from a thread of the test process.

Why in-process: browser tests then reach ``app.state.chat`` directly, so they can play the agent side
(agent messages, notices, CSAT requests) through the same ChatService that handoff uses. ``restart()``
stops the server and starts a brand-new app on the same port and database — what a deploy or crash does.
Rasa is pointed at a closed port: these tests cover the widget and the gateway, not the bot.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from services.app import create_app
from services.settings import load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveApp:
    """One services app on ``url``; ``call(coro_fn)`` runs ``await coro_fn(app)`` on the server's loop."""

    def __init__(self, data_dir: Path, rasa_url: str | None = None, database_url: str | None = None,
                 redis_url: str = "") -> None:
        self.data_dir = data_dir
        self.database_url = database_url or f"sqlite:///{data_dir / 'services.db'}"
        self.redis_url = redis_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.rasa_url = rasa_url or f"http://127.0.0.1:{free_port()}"
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.app: Any = None

    def start(self, timeout: float = 90) -> LiveApp:
        settings = load_settings(database_url=self.database_url, data_dir=self.data_dir,
                                 rasa_url=self.rasa_url, rasa_timeout_seconds=3.0, public_url=self.url,
                                 secret_key="browser-tests-secret", redis_url=self.redis_url)
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                ws_ping_interval=20, ws_ping_timeout=20)
        self._server = uvicorn.Server(config)
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._server.serve())

        self._thread = threading.Thread(target=serve, daemon=True, name=f"live-app-{self.port}")
        self._thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"services app did not start on {self.url}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        self._server = self._thread = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def call(self, fn: Any, timeout: float = 15) -> Any:
        """Run ``await fn(app)`` on the server's event loop and return its result."""
        assert self._loop is not None
        future: Future = asyncio.run_coroutine_threadsafe(fn(self.app), self._loop)
        return future.result(timeout)
