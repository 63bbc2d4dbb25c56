"""`make run`: start the whole product on embedded defaults and keep it running until Ctrl-C.

Starts the action server, the Rasa server (with the cached model) and the services app, waits until each
answers, prints where to go, restarts a process that dies (scripts/stack.py Supervisor: at most 5 times in
5 minutes, then it stops everything and shows that process's last log lines) and stops every process it
started when you press Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from scripts.stack import PRIVATE_UMASK, REPO_ROOT, PortInUse, Ports, Stack, Supervisor, latest_model

COLOURS = {"rasa": "\033[35m", "actions": "\033[36m", "services": "\033[32m"}
RESET = "\033[0m"


def echo(name: str, line: str) -> None:
    colour = COLOURS.get(name, "") if sys.stdout.isatty() else ""
    print(f"{colour}[{name:8}]{RESET if colour else ''} {line}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quiet", action="store_true", help="do not echo the servers' logs (see .data/logs/)")
    parser.add_argument("--production", action="store_true",
                        help="use endpoints.production.yml and APP_ENV=production (PostgreSQL + Redis)")
    args = parser.parse_args()
    # Whatever this launcher writes (demo accounts, data directory) is readable by this user only.
    os.umask(PRIVATE_UMASK)

    ports = Ports.from_env()
    try:
        Stack(model_path=Path("unused"), ports=ports).check_ports()
    except PortInUse as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stack = Stack(model_path=latest_model(), ports=ports, production=args.production)

    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print("==> starting the action server, the Rasa server and the services app (logs in .data/logs/)")
    try:
        stack.start(echo=None if args.quiet else echo)
    except (RuntimeError, TimeoutError, PortInUse) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    url = stack.services_url
    accounts = None
    if not args.production:
        from scripts.demo_accounts import ensure_demo_accounts

        accounts = ensure_demo_accounts(f"sqlite:///{stack.data_dir / 'services.db'}", stack.data_dir)
        from services.metrics.demo import start_in_background

        demo = start_in_background(f"sqlite:///{stack.data_dir / 'services.db'}", stack.data_dir)
        if demo:
            print(demo, flush=True)
    print(f"""
  Lumo support assistant is running.

    Website with the chat widget   {url}/
    Help center                    {url}/help
    Agent console                  {url}/console
    Services API docs              {url}/docs
    Rasa REST channel              {stack.rasa_url}/webhooks/rest/webhook

  Chat from a terminal:  curl -s {stack.rasa_url}/webhooks/rest/webhook -d '{{"sender":"me","message":"oi, cade meu pedido?"}}'
  Press Ctrl-C to stop everything.
""", flush=True)
    if accounts:
        print("  " + accounts, flush=True)
    exit_code = 0
    # A process that dies is restarted (a few times); the others keep serving meanwhile.
    supervisor = Supervisor(stack)
    while not stopping:
        failure = supervisor.check(echo=echo)
        if failure:
            print(f"error: {failure}", file=sys.stderr)
            exit_code = 1
            break
        time.sleep(0.5)
    print("\n==> stopping every process…", flush=True)
    stack.stop()
    print("==> stopped.")
    return exit_code


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())
