"""Demo console accounts: created once, with a random password that really signs in."""

from __future__ import annotations

import re

from handoff.auth import authenticate
from scripts.demo_accounts import DEMO_ACCOUNTS, ensure_demo_accounts
from services.db import Database


def test_created_once_and_password_works(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    text = ensure_demo_accounts(url, tmp_path)
    password = re.search(r"password for all: (\S+)\)", text).group(1)
    assert len(password) >= 12
    db = Database(url)
    for email, _name, role, _teams in DEMO_ACCOUNTS:
        agent = authenticate(db, email, password)
        assert agent is not None and agent.role == role
    assert authenticate(db, "ana@lumo.example", "wrong-password") is None
    db.dispose()
    assert ensure_demo_accounts(url, tmp_path) == text  # second run: same accounts, nothing new
    assert (tmp_path / "demo_accounts.txt").stat().st_mode & 0o077 == 0
