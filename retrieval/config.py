"""Settings for retrieval, read from ``retrieval/retrieval.yml`` (every key has a working default)."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = Path(__file__).resolve().parent / "retrieval.yml"

DEFAULTS: dict[str, Any] = {
    "articles_dir": "kb_articles",
    "index_dir": ".data/index",
    "threads": 2,
    "encoders": {"default": {"backend": "onnx-int8", "variant": "original"}},
    "query_routes": {},
    "passages": {"max_words": 200, "overlap_words": 40},
    "lexical": {"normalizer": "snowball", "stopwords": True, "title_weight": 2.0, "k1": 1.2, "b": 0.75},
    "fusion": {"method": "adaptive", "confidence_top": 10, "sharpness": 1.0, "title_signal": True,
               "title_candidates": 10, "normalization": "minmax", "dense_weight": 0.5,
               "dense_weight_by_encoder": {}, "rrf_k": 60, "candidates": 50},
    "index": {"hnsw_above": 20000, "hnsw_m": 32, "ef_construction": 80, "ef_search": 256},
    "answerable": {"threshold": 0.5, "calibration_file": "retrieval/calibration.json"},
    "language": {"default": "pt", "fallback": True},
    "keep_old_versions": 1,
}


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in ("encoders", "query_routes"):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


@dataclass
class Settings:
    """Resolved retrieval settings; paths are absolute."""

    raw: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULTS))
    base_dir: Path = REPO_ROOT

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def _path(self, key: str) -> Path:
        p = Path(self.raw[key])
        return p if p.is_absolute() else self.base_dir / p

    @property
    def articles_dir(self) -> Path:
        return self._path("articles_dir")

    @property
    def index_dir(self) -> Path:
        return self._path("index_dir")

    @property
    def calibration_file(self) -> Path:
        p = Path(self.raw["answerable"]["calibration_file"])
        return p if p.is_absolute() else REPO_ROOT / p

    def with_overrides(self, **over: Any) -> Settings:
        """A copy with some top-level or nested keys replaced (tests, benchmarks)."""
        return Settings(_merge(self.raw, over), self.base_dir)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read ``path`` (default: $RETRIEVAL_CONFIG or retrieval/retrieval.yml) over the defaults."""
    path = Path(path or os.environ.get("RETRIEVAL_CONFIG") or DEFAULT_CONFIG)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    if data is not None and not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of settings")
    return Settings(_merge(_merge(DEFAULTS, data or {}), overrides), REPO_ROOT)
