"""Start the services app: ``python -m services [--host H] [--port P]``.

Binds to 127.0.0.1 unless ``--host``, ``SERVICES_HOST`` or ``HOST`` say otherwise; files it creates (SQLite,
secret key) are private to its user; personal data and secrets are masked in every log line, uvicorn's access
log included (``GET /api/search?q=<CPF>`` is logged with the CPF masked).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


WS_MAX_BYTES = 128 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the Lumo services app (chat, help center, search, handoff).")
    parser.add_argument("--host", default=os.environ.get("SERVICES_HOST") or os.environ.get("HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SERVICES_PORT", "8000")))
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()

    os.umask(0o077)
    from services.privacy import install_log_redaction

    install_log_redaction()
    import uvicorn

    uvicorn.run("services.app:create_app", factory=True, host=args.host, port=args.port,
                log_level=args.log_level, ws_ping_interval=20, ws_ping_timeout=20,
                # A frame larger than this is refused by uvicorn before it is buffered (its default buffers 16 MiB
                # per frame); the app's own limits (chat.yml max_message_chars, 64 kB console frames) sit below it.
                ws_max_size=WS_MAX_BYTES)


if __name__ == "__main__":
    main()
