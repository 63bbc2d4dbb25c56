"""Load ``handoff/policy.yml``, the escalation/routing/hours policy a support lead edits, and read it.

Validation is the schema of services/configcheck (``PolicyFile``: every key known, every value checked), the
same one the services app runs over all lead-editable files at start-up, so a typo fails with the file, the
key and the problem instead of being ignored. Customer-facing wording (handoff messages, team names, hours in
words) lives in the text catalogue (texts/<language>.yml); :meth:`Policy.message`, :meth:`Policy.team_name` and
:meth:`Policy.hours_text` read it from there.
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
    """The raw mapping when it satisfies the policy schema; else :class:`PolicyError` naming file, key, problem."""
    from services.configcheck.check import validate_mapping
    from services.configcheck.schemas import PolicyFile

    problems = validate_mapping(raw, PolicyFile, str(path))
    if problems:
        raise PolicyError("\n".join(str(p) for p in problems))
    return raw


def policy_path() -> Path:
    return Path(os.environ.get("HANDOFF_POLICY") or DEFAULT_POLICY_FILE)


def load_policy(path: Path | str | None = None) -> Policy:
    """Read and validate a policy file (default: ``$HANDOFF_POLICY`` or ``handoff/policy.yml``)."""
    file = Path(path) if path else policy_path()
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise PolicyError(f"{file}: (top level): the file does not exist") from error
    except yaml.YAMLError as error:
        raise PolicyError(f"{file}: (top level): not valid YAML: {error}") from error
    return Policy(raw=_validate(raw, file), path=file)


@lru_cache(maxsize=4)
def cached_policy(path: str) -> Policy:
    """Read the policy once per process and path."""
    return load_policy(path)
