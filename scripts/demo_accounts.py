"""Demo console accounts for the embedded mode, so a newcomer can try the agent side right away.

Why a random password: a fixed demo password would ship a known credential with every install. The
accounts are created only when the database has no console account at all, and only in embedded mode;
their password is kept in ``.data/demo_accounts.txt`` (readable by the owner only) and printed by `make run`.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import func, select

from handoff.auth import hash_password
from handoff.models import Agent
from services.db import Database, migrate

DEMO_ACCOUNTS = (
    ("lider@lumo.example", "Lia (líder)", "lead", []),
    ("ana@lumo.example", "Ana", "agent", ["atendimento"]),
    ("bruno@lumo.example", "Bruno", "agent", ["suporte"]),
)


def ensure_demo_accounts(database_url: str, data_dir: Path) -> str | None:
    """Create the demo accounts if there are no accounts; return the text describing them (or None)."""
    record = data_dir / "demo_accounts.txt"
    migrate(database_url)
    db = Database(database_url)
    try:
        with db.session() as session:
            if session.scalar(select(func.count()).select_from(Agent)):
                return record.read_text() if record.exists() else None
            password = secrets.token_urlsafe(9)
            for email, name, role, teams in DEMO_ACCOUNTS:
                session.add(Agent(email=email, name=name, password_hash=hash_password(password), role=role,
                                  teams=teams, status="offline", active=True))
    finally:
        db.dispose()
    lines = [f"{email} ({role}{', ' + ', '.join(teams) if teams else ', all teams'})"
             for email, _name, role, teams in DEMO_ACCOUNTS]
    text = "Demo console accounts (password for all: " + password + "):\n      " + "\n      ".join(lines) + "\n"
    record.write_text(text)
    record.chmod(0o600)
    return text
