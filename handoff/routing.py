"""Routing: choose the team (atendimento / suporte) for an escalated conversation.

The team follows what the conversation was about, not the last message ("quero falar com alguém" says
nothing about the topic): the conversation's intents are scanned latest first, each mapped to a team by the
lead's override (``routing.intent_teams`` in policy.yml), else by its ``team`` (or ``category`` via
``category_teams``) in ``bot/topics.yml``; then the category the action sent, then the KB articles' categories; then the default.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from handoff.policy import REPO_ROOT, Policy


def load_topics(path: Path) -> dict[str, dict[str, str]]:
    """intent -> {"category": ..., "team": ...} from bot/topics.yml (``topics: {intent: {category, team}}``).

    Also accepted: ``{intents: {...}}``, a bare ``{intent: {...}}`` mapping and ``{intent: category}``.
    A missing file means "no mapping" (routing then falls back to the default team).
    """
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if isinstance(raw, dict):
        for key in ("topics", "intents"):
            if isinstance(raw.get(key), dict):
                raw = raw[key]
                break
    mapping: dict[str, dict[str, str]] = {}
    if isinstance(raw, dict):
        for intent, value in raw.items():
            entry = value if isinstance(value, dict) else {"category": value}
            clean = {k: str(entry[k]) for k in ("category", "team") if isinstance(entry.get(k), str)}
            if clean:
                mapping[str(intent)] = clean
    return mapping


@dataclass(frozen=True)
class RouteDecision:
    team: str
    category: str | None
    source: str  # which rule decided, shown to agents: "intent:order_status", "category:support", "default"


class Router:
    """Maps intents and categories to teams according to the policy."""

    def __init__(self, policy: Policy, topics: dict[str, dict[str, str]] | None = None) -> None:
        self.policy = policy
        routing = policy.routing
        if topics is None:
            topics_file = Path(routing.get("topics_file") or "bot/topics.yml")
            topics = load_topics(topics_file if topics_file.is_absolute() else REPO_ROOT / topics_file)
        self.topics = topics
        self.category_teams: dict[str, str] = dict(routing.get("category_teams") or {})
        self.intent_teams: dict[str, str] = dict(routing.get("intent_teams") or {})

    def team_for_category(self, category: str | None) -> str | None:
        if not category:
            return None
        if category in self.policy.teams:  # a team name given directly
            return category
        return self.category_teams.get(category)

    def team_for_intent(self, intent: str | None) -> tuple[str | None, str | None]:
        """(team, category) for one intent, or (None, None) when the intent says nothing about a team."""
        if not intent:
            return None, None
        topic = self.topics.get(intent) or {}
        category = topic.get("category")
        if intent in self.intent_teams:
            return self.intent_teams[intent], category
        team = topic.get("team")
        if team in self.policy.teams:
            return team, category
        return self.team_for_category(category), category

    def route(self, intents_latest_first: Iterable[str], category: str | None = None,
              kb_categories: Iterable[str] = ()) -> RouteDecision:
        for intent in intents_latest_first:
            team, intent_category = self.team_for_intent(intent)
            if team:
                return RouteDecision(team, intent_category, f"intent:{intent}")
        team = self.team_for_category(category)
        if team:
            return RouteDecision(team, category, f"category:{category}")
        for kb_category in kb_categories:
            team = self.team_for_category(kb_category)
            if team:
                return RouteDecision(team, kb_category, f"kb:{kb_category}")
        return RouteDecision(self.policy.default_team, None, "default")


def describe(decision: RouteDecision) -> dict[str, Any]:
    return {"team": decision.team, "category": decision.category, "source": decision.source}
