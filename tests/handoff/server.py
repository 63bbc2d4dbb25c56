"""Run the real services app as a separate process (uvicorn via ``python -m services``) for socket/browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from handoff.policy import REPO_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_WAIT_POLICY": "PASSIVE", **env}
        self.proc = subprocess.Popen([sys.executable, "-m", "services", "--port", str(self.port),
                                      "--log-level", "warning"], cwd=REPO_ROOT, env=full_env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"services app exited; see {log_path}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"services app did not start on {self.port}; see {log_path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def create_user(database_url: str, email: str, name: str, role: str, teams: list[str], password: str,
                env: dict[str, str]) -> None:
    """Through the real CLI, as an operator would."""
    args = [sys.executable, "-m", "handoff.users", "--database-url", database_url, "create", "--email", email,
            "--name", name, "--role", role, "--password-stdin"]
    for team in teams:
        args += ["--team", team]
    subprocess.run(args, input=password + "\n", text=True, check=True, cwd=REPO_ROOT, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env})
