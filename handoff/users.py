"""Manage console accounts: ``python -m handoff.users create --email --name --role --team``.

The password is read from ``--password-stdin`` or asked interactively (never from the command line by
default, where it would land in shell history).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import select

from handoff.auth import hash_password
from handoff.models import ROLES, Agent
from handoff.policy import load_policy
from services.db import Database, migrate
from services.settings import load_settings


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (8+ characters): ")
    if first != getpass.getpass("Repeat the password: "):
        raise SystemExit("the passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff.users", description="Agent console accounts.")
    parser.add_argument("--database-url", help="default: the services app's DATABASE_URL / settings.yml")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create an agent or lead (or update an existing e-mail)")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=ROLES, default="agent")
    create.add_argument("--team", action="append", default=[], help="team id from handoff/policy.yml; repeatable")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sub.add_parser("list", help="list accounts")
    disable = sub.add_parser("disable", help="disable an account (its sessions stop working)")
    disable.add_argument("--email", required=True)
    args = parser.parse_args(argv)

    url = args.database_url or load_settings().database_url
    migrate(url)
    db = Database(url)
    try:
        if args.command == "create":
            teams = load_policy().teams
            unknown = [t for t in args.team if t not in teams]
            if unknown:
                parser.error(f"unknown team(s) {unknown}; teams are {sorted(teams)}")
            if args.role == "agent" and not args.team:
                parser.error("an agent needs at least one --team")
            email = args.email.strip().lower()
            if "@" not in email:
                parser.error("--email must be an e-mail address")
            try:
                password_hash = hash_password(_password(args))
            except ValueError as error:
                parser.error(str(error))
            with db.session() as s:
                agent = s.scalars(select(Agent).where(Agent.email == email)).first()
                if agent is None:
                    agent = Agent(email=email, name=args.name, password_hash=password_hash, role=args.role,
                                  teams=args.team, status="offline", active=True)
                    s.add(agent)
                    verb = "created"
                else:
                    agent.name, agent.password_hash, agent.role, agent.teams = args.name, password_hash, args.role, args.team
                    agent.active = True
                    verb = "updated"
            print(f"{verb} {args.role} {email} (teams: {', '.join(args.team) or 'all, as lead'})")
        elif args.command == "list":
            with db.session() as s:
                for a in s.scalars(select(Agent).order_by(Agent.email)).all():
                    state = "active" if a.active else "disabled"
                    print(f"{a.email}\t{a.name}\t{a.role}\t{','.join(a.teams or [])}\t{state}")
        elif args.command == "disable":
            with db.session() as s:
                agent = s.scalars(select(Agent).where(Agent.email == args.email.strip().lower())).first()
                if agent is None:
                    raise SystemExit(f"no account {args.email}")
                agent.active = False
            print(f"disabled {args.email}")
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
