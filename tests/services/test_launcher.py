"""`make run`'s launcher: a port already in use must give a clear message, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from scripts.stack import REPO_ROOT


def test_port_in_use_gives_clear_message() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "SERVICES_PORT": str(port),
               "RASA_PORT": "0", "ACTIONS_PORT": "0"}
        result = subprocess.run([sys.executable, "-m", "scripts.run_all", "--quiet"], cwd=REPO_ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
    assert "SERVICES_PORT=" in result.stderr
    assert "Traceback" not in result.stderr
