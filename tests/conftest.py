"""Shared fixtures for the services-environment tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from scripts.stack import Stack  # noqa: E402
from tests.stack import start_stack  # noqa: E402


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole product running as real processes, shared by every end-to-end test of the session."""
    data_dir: Path = tmp_path_factory.mktemp("stack-data")
    running = start_stack(data_dir)
    try:
        yield running
    finally:
        running.stop()
