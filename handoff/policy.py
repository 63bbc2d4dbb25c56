"""Load and validate ``handoff/policy.yml``, the escalation/routing/hours policy a support lead edits.

This module only needs PyYAML and the standard library, because both environments read it: the action
server (Python 3.10, to decide *whether* to escalate) and the services app (Python 3.11, to route, queue and
talk to the customer). Validation happens at load time so a typo in the YAML fails at start-up with a clear
message instead of at the first escalation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from texts import CatalogueError, catalogue

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
DEFAULT_POLICY_FILE = HERE / "policy.yml"
REASONS = ("customer_request", "repeated_fallback", "always_human", "frustration", "unanswered_repeat")
LANGUAGES = ("pt", "en")


class PolicyError(ValueError):
    """The policy file is malformed; the message says which key."""


@dataclass(frozen=True)
class Policy:
    """The parsed policy; ``raw`` keeps the YAML as read so new keys need no code to be readable."""

    raw: dict[str, Any]
    path: Path = field(default=DEFAULT_POLICY_FILE)

    # -- escalation ------------------------------------------------------------------------------------
    @property
    def escalation(self) -> dict[str, Any]:
        return self.raw.get("escalation") or {}

    def priority_for(self, reason: str) -> int:
        return int((self.escalation.get("priority") or {}).get(reason, 3))

    # -- teams and routing -----------------------------------------------------------------------------
    @property
    def teams(self) -> dict[str, dict[str, Any]]:
        return self.raw.get("teams") or {}

    def team_name(self, team: str, language: str) -> str:
        """The team's name as customers read it (catalogue ``teams.<team>.name``); the team id if it has none."""
        key = f"teams.{team}.name"
        return catalogue().text(key, language) if catalogue().has(key) else team

    def hours_text(self, team: str, language: str) -> str:
        """When the team works, in words (catalogue ``teams.<team>.hours``)."""
        key = f"teams.{team}.hours"
        return catalogue().text(key, language) if catalogue().has(key) else catalogue().company(language).hours

    @property
    def routing(self) -> dict[str, Any]:
        return self.raw.get("routing") or {}

    @property
    def default_team(self) -> str:
        return str(self.routing.get("default_team") or next(iter(self.teams)))

    # -- misc ----------------------------------------------------------------------------------------------
    def section(self, name: str) -> dict[str, Any]:
        return self.raw.get(name) or {}

    @property
    def resolution_tags(self) -> list[str]:
        return [str(t) for t in self.raw.get("resolution_tags") or []]

    @property
    def webhooks(self) -> list[dict[str, Any]]:
        return list(self.raw.get("webhooks") or [])

    def message(self, key: str, language: str, **values: object) -> str:
        """Customer text ``handoff.<key>`` of the text catalogue (texts/<language>.yml), placeholders filled."""
        try:
            return catalogue().text(f"handoff.{key}", language, **values)
        except CatalogueError as error:
            raise PolicyError(str(error)) from error


def _validate(raw: Any, path: Path) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}: the policy must be a YAML mapping")
    teams = raw.get("teams")
    if not isinstance(teams, dict) or not teams:
        raise PolicyError(f"{path}: 'teams' must list at least one team")
    routing = raw.get("routing") or {}
    for label, mapping in (("category_teams", routing.get("category_teams") or {}),
                           ("intent_teams", routing.get("intent_teams") or {})):
        for key, team in mapping.items():
            if team not in teams:
                raise PolicyError(f"{path}: routing.{label}.{key} names unknown team {team!r}")
    default_team = routing.get("default_team")
    if default_team and default_team not in teams:
        raise PolicyError(f"{path}: routing.default_team {default_team!r} is not a team")
    fallback = (raw.get("escalation") or {}).get("fallback") or {}
    max_consecutive = fallback.get("max_consecutive", 2)
    if not isinstance(max_consecutive, int) or max_consecutive < 1:
        raise PolicyError(f"{path}: escalation.fallback.max_consecutive must be a whole number >= 1")
    for reason in (raw.get("escalation") or {}).get("priority") or {}:
        if reason not in REASONS:
            raise PolicyError(f"{path}: escalation.priority.{reason} is not one of {', '.join(REASONS)}")
    for i, hook in enumerate(raw.get("webhooks") or []):
        if not isinstance(hook, dict) or not hook.get("url") or not hook.get("secret"):
            raise PolicyError(f"{path}: webhooks[{i}] needs 'url' and 'secret'")
    return raw


def policy_path() -> Path:
    return Path(os.environ.get("HANDOFF_POLICY") or DEFAULT_POLICY_FILE)


def load_policy(path: Path | str | None = None) -> Policy:
    """Read and validate a policy file (default: ``$HANDOFF_POLICY`` or ``handoff/policy.yml``)."""
    file = Path(path) if path else policy_path()
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise PolicyError(f"policy file {file} does not exist") from error
    except yaml.YAMLError as error:
        raise PolicyError(f"{file} is not valid YAML: {error}") from error
    return Policy(raw=_validate(raw, file), path=file)


@lru_cache(maxsize=4)
def cached_policy(path: str) -> Policy:
    """The action server reads the policy once per process and path."""
    return load_policy(path)
