"""Secrets for the bot's processes come from the environment or from a file, never from the command line.

Why: a process's arguments are world-readable (``ps``, ``/proc/<pid>/cmdline``), its environment is not.
``NAME`` is read from the environment; ``NAME_FILE`` may instead point to a file holding it (the convention of
Docker secrets and systemd credentials), so a deployer can keep the value out of the environment too.
"""

from __future__ import annotations

import os
from pathlib import Path


class SecretError(RuntimeError):
    """A secret is configured wrongly (its file is missing or unreadable)."""


def read_secret(name: str) -> str:
    """The value of secret ``name`` (``NAME`` or the contents of ``NAME_FILE``), or "" when neither is set."""
    value = os.environ.get(name, "")
    if value:
        return value
    path = os.environ.get(f"{name}_FILE", "")
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise SecretError(f"{name}_FILE={path} cannot be read: {error.strerror}") from error


def export_secret(name: str) -> str:
    """Like :func:`read_secret`, and put the value in this process's environment (Rasa substitutes
    ``${NAME}`` in endpoints.yml from the environment only)."""
    value = read_secret(name)
    if value:
        os.environ[name] = value
    return value


def bind_host(specific: str) -> str:
    """Interface to listen on: ``specific`` (e.g. ACTIONS_HOST), else HOST, else loopback only."""
    return os.environ.get(specific) or os.environ.get("HOST") or "127.0.0.1"
