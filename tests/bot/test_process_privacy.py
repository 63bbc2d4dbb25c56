"""Rasa environment side of issue #12: the Rasa server wrapper keeps the token off the command line and binds
to loopback, and Rasa's own logging configuration (coloredlogs, Sanic) cannot bypass the masking."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.bot.conftest import REPO_ROOT

CPF = "529.982.247-25"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"HOST", "RASA_HOST", "RASA_TOKEN", "RASA_TOKEN_FILE"}}
    return {**env, "PYTHONPATH": str(REPO_ROOT), **extra}


def test_rasa_argv_binds_loopback_and_carries_the_token_inside_the_process(monkeypatch) -> None:
    from bot.rasa_server import rasa_argv

    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("RASA_HOST", raising=False)
    argv = rasa_argv(["--enable-api", "--port", "5005"], "tok")
    assert argv[:2] == ["rasa", "run"]
    assert argv[argv.index("--interface") + 1] == "127.0.0.1"
    assert argv[argv.index("--auth-token") + 1] == "tok"
    monkeypatch.setenv("HOST", "0.0.0.0")
    assert "0.0.0.0" in rasa_argv([], "tok")
    assert rasa_argv(["--interface", "10.0.0.5"], "")[-2:] == ["--interface", "10.0.0.5"]


@pytest.mark.parametrize("flag", ["--auth-token", "-t", "--auth-token=x", "--jwt-secret"])
def test_a_secret_on_the_command_line_is_refused(flag: str) -> None:
    args = [flag] if "=" in flag else [flag, "visible-to-everyone"]
    result = subprocess.run([sys.executable, "-m", "bot.rasa_server", "--enable-api", *args], cwd=REPO_ROOT,
                            env=_env(RASA_TOKEN="t"), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "RASA_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_enable_api_without_a_token_is_refused() -> None:
    result = subprocess.run([sys.executable, "-m", "bot.rasa_server", "--enable-api"], cwd=REPO_ROOT, env=_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "RASA_TOKEN" in result.stderr


def test_rasa_logging_configuration_keeps_personal_data_masked() -> None:
    """Install first (as bot.rasa_server does), then let Rasa and rasa-sdk configure logging their way."""
    script = textwrap.dedent(f"""
        import logging
        from pii.logs import install
        install()
        import rasa.utils.io, structlog
        from rasa.utils.common import configure_logging_and_warnings
        from rasa.utils.log_utils import configure_structlog
        configure_logging_and_warnings(logging.DEBUG)  # what rasa.__main__ does, in its order
        rasa.utils.io.configure_colored_logging(logging.DEBUG)
        configure_structlog(logging.DEBUG)
        logging.getLogger("rasa.core.processor").debug("Received user message 'meu cpf {CPF}, fone (11) 98765-4321'")
        structlog.get_logger().info("processor.message", user_text="email ana@x.com", order="20481234")
        logging.getLogger("sanic.access").info("", extra={{"request": "GET /conversations/x/tracker?token=s3cr3t",
                                                          "status": 200, "byte": 1, "host": "127.0.0.1:5"}})
        access = [r for r in logging.getLogger("sanic.access").filters]
        print("FILTERS", len(access))
        logging.getLogger("rasa_sdk.executor").info("pedido 20481234 consultado para ana@x.com")
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=_env(), capture_output=True,
                            text=True, timeout=180)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert CPF not in out and "98765-4321" not in out and "ana@x.com" not in out
    assert "***.***.***-25" in out and "pedido 20481234" in out and "a***@***.com" in out
    assert "FILTERS 1" in out
