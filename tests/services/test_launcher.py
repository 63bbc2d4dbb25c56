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


def test_stack_keeps_secrets_off_command_lines_and_makes_the_data_dir_private(tmp_path) -> None:
    """Issue #12: `ps` showed Rasa's auth token; .data/ and its files were world-readable."""
    import stat
    from pathlib import Path

    from scripts.stack import Ports, Stack

    data = tmp_path / "data"
    (data / "logs").mkdir(parents=True)
    old = data / "logs" / "rasa.log"
    old.write_text("from an older run\n")
    old.chmod(0o644)
    data.chmod(0o755)
    stack = Stack(model_path=Path("model.tar.gz"), ports=Ports(15005, 15055, 18000), data_dir=data)
    stack.build()
    secrets = (stack.rasa_token, stack.internal_token, stack.action_token)
    assert len(set(secrets)) == 3
    for process in stack.processes:
        assert not any(secret in arg for secret in secrets for arg in process.command), process.name
        assert all(process.env[name] for name in ("RASA_TOKEN", "INTERNAL_TOKEN", "ACTION_SERVER_TOKEN"))
    assert [p.command[2] for p in stack.processes] == ["bot.action_server", "bot.rasa_server", "services"]
    endpoints = (data / "endpoints.generated.yml").read_text()
    assert "${ACTION_SERVER_TOKEN}" in endpoints and stack.action_token not in endpoints
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
