"""Start the Rasa server without secrets on its command line: ``python -m bot.rasa_server [rasa run options]``.

Why: ``rasa run --auth-token X`` shows the HTTP API token to every user of the machine (``ps``). This wrapper
reads ``RASA_TOKEN`` (or ``RASA_TOKEN_FILE``) and hands it to Rasa inside the process; it also binds to
127.0.0.1 unless ``--interface``, ``RASA_HOST`` or ``HOST`` say otherwise (Rasa's own default is every
interface), makes the files Rasa creates (the SQLite tracker store) private, and masks personal data in
Rasa's and Sanic's logs. ``ACTION_SERVER_TOKEN`` is read the same way; endpoints.yml passes it to the action
server as ``${ACTION_SERVER_TOKEN}``.
"""

from __future__ import annotations

import os
import sys

from bot.secret_env import SecretError, bind_host, export_secret
from pii.logs import install as install_log_redaction

SECRET_FLAGS = ("--auth-token", "-t", "--jwt-secret")


def rasa_argv(options: list[str], token: str) -> list[str]:
    """The arguments Rasa's CLI sees (never the process's real command line)."""
    argv = ["rasa", "run", *options]
    if not any(o in ("-i", "--interface") or o.startswith("--interface=") for o in options):
        argv += ["--interface", bind_host("RASA_HOST")]
    if token:
        argv += ["--auth-token", token]
    return argv


def main() -> int:
    options = sys.argv[1:]
    if options[:1] == ["run"]:
        options = options[1:]
    leaked = [o for o in options if o.split("=", 1)[0] in SECRET_FLAGS]
    if leaked:
        print(f"error: {leaked[0].split('=', 1)[0]} on the command line is visible to every user (ps); "
              "set RASA_TOKEN (or RASA_TOKEN_FILE) instead", file=sys.stderr)
        return 2
    os.umask(0o077)
    install_log_redaction()
    try:
        token = export_secret("RASA_TOKEN")
        export_secret("ACTION_SERVER_TOKEN")
    except SecretError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if "--enable-api" in options and not token:
        print("error: --enable-api needs RASA_TOKEN (or RASA_TOKEN_FILE): Rasa's HTTP API can read and change "
              "every conversation", file=sys.stderr)
        return 2
    sys.argv = rasa_argv(options, token)
    from rasa.__main__ import main as rasa_main

    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
