"""The two NLU configurations the benchmark compares: the project's (config.yml) and Rasa's default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PROJECT_CONFIG = Path(__file__).resolve().parents[2] / "config.yml"

# What `rasa init` writes for a new project (Rasa 3.6 default pipeline, uncommented).
BASELINE_PIPELINE: list[dict[str, Any]] = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    {"name": "DIETClassifier", "epochs": 100, "constrain_similarities": True},
    {"name": "EntitySynonymMapper"},
    {"name": "ResponseSelector", "epochs": 100, "constrain_similarities": True},
    {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
]


def project_nlu_config(path: Path = PROJECT_CONFIG) -> dict[str, Any]:
    """The `recipe`, `language` and `pipeline` of the project's config.yml (policies are irrelevant here)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("pipeline"), list):
        raise ValueError(f"{path}: no `pipeline:` list")
    return {
        "recipe": data.get("recipe", "default.v1"),
        "language": data.get("language", "en"),
        "pipeline": data["pipeline"],
    }


def baseline_nlu_config(language: str = "en") -> dict[str, Any]:
    """Rasa's default pipeline for a new project."""
    return {"recipe": "default.v1", "language": language, "pipeline": BASELINE_PIPELINE}


def fallback_threshold(config: dict[str, Any]) -> tuple[float | None, float | None]:
    """(threshold, ambiguity_threshold) of the pipeline's FallbackClassifier, if any."""
    for component in config["pipeline"]:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3)), float(component.get("ambiguity_threshold", 0.1))
    return None, None
