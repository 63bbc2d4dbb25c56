"""Helpers for tests that start real server processes."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest


def wait_healthy(proc: subprocess.Popen[bytes], health_url: str, log_path: Path, name: str, timeout: float,
                 poll: float = 0.3) -> None:
    """Return once ``health_url`` answers 200; fail the test with the log's tail if the process exits or hangs."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{name} exited:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(health_url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{name} not healthy:\n{log_path.read_text()[-3000:]}")
        time.sleep(poll)
