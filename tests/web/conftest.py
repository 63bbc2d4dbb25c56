"""Browser-test fixtures: one headless Chromium per module and a live services app (see live.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser import launch_browser
from tests.web.live import LiveApp


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = LiveApp(Path(tmp_path_factory.mktemp("live-app"))).start()
    try:
        yield app
    finally:
        app.stop()
