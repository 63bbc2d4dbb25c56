"""``services/workspace/workspace.yml``: what the lead's workspace reads, validated like every lead-edited file.

Why one file with a section per area: the lead finds every knob of the workspace in one place, and the schema
(``WorkspaceFile``) is what the code reads, so a key that is here does something.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field

from services.configcheck.schemas import Ratio, Strict, _timezone
from services.settings import REPO_ROOT

DEFAULT_FILE = Path(__file__).with_name("workspace.yml")


class Paths(Strict):
    bot_data: str = "bot/data"
    domain: str = "domain.yml"
    rasa_config: str = "config.yml"
    test_stories: str = "tests/bot/stories"
    held_out: str = "bot/evaluation"
    models: str = ".data/models"


class Review(Strict):
    timezone: Annotated[str, AfterValidator(_timezone)] = "America/Sao_Paulo"
    page_size: int = Field(25, ge=5, le=100)


class Inbox(Strict):
    low_confidence: Ratio = 0.6
    group_similarity: Ratio = 0.94
    max_messages: int = Field(1000, ge=10, le=100_000)
    max_example_chars: int = Field(300, ge=20, le=2000)


class Retrain(Strict):
    max_accuracy_drop: float = Field(0.01, ge=0, le=1)
    max_macro_f1_drop: float = Field(0.01, ge=0, le=1)
    max_intent_f1_drop: float = Field(0.15, ge=0, le=1)
    stories_must_pass: bool = True
    # Every Rasa server that serves customers (replicas); empty: the services app's own RASA_URL.
    rasa_urls: list[str] = Field(default_factory=list, max_length=50)


class Gaps(Strict):
    cluster_similarity: Ratio = 0.90
    cross_language_bonus: float = Field(0.02, ge=0, le=0.2)
    window_days: int = Field(30, ge=1, le=365)
    max_questions: int = Field(2000, ge=10, le=50_000)


class WorkspaceFile(Strict):
    paths: Paths = Paths()
    review: Review = Review()
    inbox: Inbox = Inbox()
    retrain: Retrain = Retrain()
    gaps: Gaps = Gaps()


@dataclass(frozen=True)
class WorkspacePaths:
    """Absolute paths; tests build one over temporary copies so they never touch the repository's files."""

    root: Path
    bot_data: Path
    domain: Path
    rasa_config: Path
    test_stories: Path
    held_out: Path
    models: Path

    @classmethod
    def under(cls, root: Path, paths: Paths | None = None) -> WorkspacePaths:
        paths = paths or Paths()
        return cls(root=root, **{name: root / getattr(paths, name) for name in Paths.model_fields})


@dataclass(frozen=True)
class WorkspaceConfig:
    """The parsed file plus resolved paths (``app.state.workspace_config``)."""

    file: WorkspaceFile
    paths: WorkspacePaths


def workspace_file() -> Path:
    return Path(os.environ.get("WORKSPACE_SETTINGS") or DEFAULT_FILE)


def load_workspace_config(path: Path | None = None, root: Path = REPO_ROOT) -> WorkspaceConfig:
    """Read and validate the file (a problem raises ``services.configcheck.ConfigError`` naming file and key)."""
    from services.configcheck.check import ConfigError, check_yaml

    problems, parsed = check_yaml(path or workspace_file(), WorkspaceFile, required=False)
    if problems:
        raise ConfigError(problems)
    parsed = parsed or WorkspaceFile()
    return WorkspaceConfig(file=parsed, paths=WorkspacePaths.under(root, parsed.paths))
