"""Check every lead-editable YAML file at start-up; an error names the FILE, the KEY (dotted path) and the PROBLEM.

Files (each path can be moved by the environment variable the code that reads it honours):
``handoff/policy.yml`` ($HANDOFF_POLICY), the topics file it names (``bot/topics.yml``),
``services/settings.yml`` ($SERVICES_SETTINGS), ``services/chat/chat.yml`` ($CHAT_SETTINGS) and the text
catalogue ``texts/`` ($TEXTS_DIR: ``company.yml`` and one ``<language>.yml`` per language).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from services.configcheck.schemas import ChatFile, PolicyFile, SettingsFile, TopicsFile
from texts import CatalogueError, load_catalogue

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key or '(top level)'}: {self.problem}"


class ConfigError(ValueError):
    """One or more files are wrong; ``problems`` lists them, the message shows them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"settings files have {len(problems)} problem(s); fix them and start again:\n{lines}")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that owns the mapping at ``loc`` (for "did you mean" suggestions)."""
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        else:
            return None
        while get_origin(current) is not None and get_origin(current) not in (dict, list):
            args = [a for a in get_args(current) if a is not type(None)]
            current = args[0] if args else None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problems_of(error: ValidationError, model: type[BaseModel], file: str) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        kind = item["type"]
        if kind == "extra_forbidden":
            owner = _model_at(model, loc[:-1])
            known = list(owner.model_fields) if owner else []
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else (f" (known keys: {', '.join(known)})" if known else "")
            message = f"unknown key{hint}"
        elif kind == "missing":
            message = "missing: this key is required"
        elif kind == "value_error":
            message = str(item.get("ctx", {}).get("error") or item["msg"])
        else:
            message = f"{item['msg']} (got {item.get('input')!r})"
        key = _dotted(loc)
        # Cross-key checks report their own dotted key in the message ("routing.default_team: ...").
        if not key and ": " in message and message.split(": ", 1)[0].replace(".", "").replace("_", "").isalnum():
            key, message = message.split(": ", 1)
        problems.append(Problem(file, key, message))
    return problems


def validate_mapping(raw: Any, model: type[BaseModel], file: str) -> list[Problem]:
    """Problems of an already parsed YAML document against ``model`` (empty: valid)."""
    if not isinstance(raw, dict):
        return [Problem(file, "", "must be a mapping of keys to values")]
    try:
        model.model_validate(raw)
    except ValidationError as error:
        return _problems_of(error, model, file)
    return []


def check_yaml(path: Path, model: type[BaseModel], required: bool = True) -> tuple[list[Problem], Any]:
    """Problems of one YAML file against its schema (none: the parsed model)."""
    shown = _shown(path)
    if not path.exists():
        return ([Problem(shown, "", "the file does not exist")] if required else []), None
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        return [Problem(shown, "", f"not valid YAML: {error}")], None
    if raw is None and not required:
        raw = {}
    if not isinstance(raw, dict):
        return [Problem(shown, "", "must be a mapping of keys to values")], None
    try:
        return [], model.model_validate(raw)
    except ValidationError as error:
        return _problems_of(error, model, shown), None


def policy_file() -> Path:
    return Path(os.environ.get("HANDOFF_POLICY") or REPO_ROOT / "handoff" / "policy.yml")


def settings_file() -> Path:
    return Path(os.environ.get("SERVICES_SETTINGS") or REPO_ROOT / "services" / "settings.yml")


def chat_file() -> Path:
    return Path(os.environ.get("CHAT_SETTINGS") or REPO_ROOT / "services" / "chat" / "chat.yml")


def texts_dir() -> Path:
    return Path(os.environ.get("TEXTS_DIR") or REPO_ROOT / "texts")


def check_all(policy: Path | None = None, settings: Path | None = None, chat: Path | None = None,
              texts: Path | None = None, workspace: Path | None = None) -> list[Problem]:
    """Every problem of every file (empty list: all good). Cross-file checks run when each side parsed."""
    from services.workspace.config import WorkspaceFile, workspace_file

    problems: list[Problem] = []
    policy_path = policy or policy_file()
    found, parsed_policy = check_yaml(policy_path, PolicyFile)
    problems += found
    problems += check_yaml(settings or settings_file(), SettingsFile, required=False)[0]
    chat_path = chat or chat_file()
    found, parsed_chat = check_yaml(chat_path, ChatFile, required=False)
    problems += found
    if parsed_chat is not None:
        problems += _unknown_intents(chat_path, "survey_end_intents", parsed_chat.survey_end_intents)
    problems += check_yaml(workspace or workspace_file(), WorkspaceFile, required=False)[0]
    catalogue = None
    try:
        catalogue = load_catalogue(texts or texts_dir())
    except CatalogueError as error:
        problems.append(Problem(_shown(Path(error.file)), error.key, error.problem))
    if parsed_policy is not None:
        topics_path = Path(parsed_policy.routing.topics_file)
        topics_path = topics_path if topics_path.is_absolute() else REPO_ROOT / topics_path
        found, topics = check_yaml(topics_path, TopicsFile)
        problems += found
        if topics is not None:
            for intent, topic in topics.topics.items():
                if topic.category not in parsed_policy.routing.category_teams and intent not in \
                        parsed_policy.routing.intent_teams:
                    problems.append(Problem(_shown(topics_path), f"topics.{intent}.category",
                                            f"'{topic.category}' has no team in {_shown(policy_path)} "
                                            "routing.category_teams"))
        if catalogue is not None:
            for team in parsed_policy.teams:
                for what in ("name", "hours"):
                    if not catalogue.has(f"teams.{team}.{what}"):
                        problems.append(Problem(_shown(catalogue.directory / f"{catalogue.default_language}.yml"),
                                                f"teams.{team}.{what}",
                                                f"missing: team '{team}' of {_shown(policy_path)} needs it"))
            for section in ("always_human", "frustration"):
                words = getattr(parsed_policy.escalation, section)
                mapping = words.keywords if section == "always_human" else words.lexicon
                for lang in mapping:
                    if lang not in catalogue.languages:
                        key = "keywords" if section == "always_human" else "lexicon"
                        problems.append(Problem(_shown(policy_path), f"escalation.{section}.{key}.{lang}",
                                                f"'{lang}' is not a language of texts/company.yml "
                                                f"({', '.join(catalogue.languages)})"))
    return problems


def _unknown_intents(path: Path, key: str, intents: list[str]) -> list[Problem]:
    """Intents a settings file names that the bot does not have (a typo would silently never match)."""
    try:
        domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []  # the bot's own checks report a broken domain
    known = {i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []}
    return [Problem(_shown(path), key, f"'{intent}' is not an intent of domain.yml") for intent in intents
            if intent not in known]


def ensure_valid(**paths: Path | None) -> None:
    """Raise :class:`ConfigError` listing every problem; the services app calls this before it starts."""
    problems = check_all(**paths)
    if problems:
        raise ConfigError(problems)
