"""The action server, accepting calls from Rasa only: ``python -m bot.action_server [--port P]``.

Why a wrapper around rasa-sdk: rasa-sdk's own entry point listens on every interface and runs any action for
anyone who can reach it, and the actions call the services app with the internal token — so a forged POST to
/webhook (made-up sender and events) could put a fabricated transcript in an agent's queue. Here every route
except /health requires the shared secret ``ACTION_SERVER_TOKEN`` in the ``X-Action-Token`` header (Rasa
sends it: ``headers`` of ``action_endpoint`` in endpoints.yml), the server binds to 127.0.0.1 unless
``ACTIONS_HOST``/``HOST`` say otherwise, CORS is off (only Rasa calls it), files it creates are private, and
personal data is masked in its logs. Without a secret it refuses to start rather than run open.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys

from bot.secret_env import SecretError, bind_host, read_secret
from pii.logs import install as install_log_redaction

HEADER = "X-Action-Token"
TOKEN_ENV = "ACTION_SERVER_TOKEN"
OPEN_PATHS = frozenset({"/health"})

log = logging.getLogger(__name__)


def create_app(token: str, actions_package: str = "bot.actions"):  # -> sanic.Sanic (imported lazily)
    """rasa-sdk's app with the token check in front of every route but /health."""
    if not token:
        raise ValueError(f"{TOKEN_ENV} is empty: the action server does not run without authentication")
    from rasa_sdk.endpoint import create_app as sdk_create_app
    from sanic import response

    app = sdk_create_app(actions_package, cors_origins="")
    expected = token.encode()

    async def authenticate(request):  # noqa: ANN001, ANN202 - Sanic request middleware
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get(HEADER, "").encode()
        if hmac.compare_digest(given, expected):
            return None
        log.warning("refused %s %s from %s: %s header missing or wrong", request.method, request.path,
                    request.ip, HEADER)
        return response.json({"error": f"unauthorised: this action server accepts calls from Rasa only "
                                       f"(missing or wrong {HEADER} header)"}, status=401)

    app.register_middleware(authenticate, "request")
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", default="bot.actions", help="package with the custom actions")
    parser.add_argument("--host", default=bind_host("ACTIONS_HOST"),
                        help="interface to listen on (default: ACTIONS_HOST, HOST, or 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", "5055")))
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)

    os.umask(0o077)
    install_log_redaction()
    try:
        token = read_secret(TOKEN_ENV)
    except SecretError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not token:
        print(f"error: {TOKEN_ENV} (or {TOKEN_ENV}_FILE) is not set. The action server only accepts calls "
              f"that carry this shared secret; give Rasa the same value (endpoints.yml, action_endpoint "
              f"headers). `make run` generates one per run.", file=sys.stderr)
        return 2

    from rasa_sdk import utils
    from rasa_sdk.plugin import plugin_manager

    utils.configure_colored_logging(args.log_level)
    utils.update_sanic_log_level()
    app = create_app(token, args.actions)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    log.info("action server listening on http://%s:%s (calls must carry %s)", args.host, args.port, HEADER)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
