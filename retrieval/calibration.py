"""Answerable / not-answerable: a logistic model over query-independent retrieval features.

Raw fused scores are min-max normalised per query, so they rank well but mean nothing across
queries. The calibrated probability uses absolute features instead: the best dense cosine, its margin
over the next article, and lexical coverage (BM25 score / the query's maximum possible score).
The model is fitted per dense encoder by ``python -m bench.retrieval.calibrate`` with negatives made by
removing each query's relevant documents from the corpus; see docs/benchmarks.md.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

FEATURES = ("dense_top", "dense_margin", "lex_cov")


@dataclass
class LogisticModel:
    coef: list[float]
    intercept: float

    def prob(self, feats: dict[str, float]) -> float:
        z = self.intercept + sum(c * feats[f] for c, f in zip(self.coef, FEATURES, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


class Calibrator:
    """Maps features to P(the knowledge base answers this query), per dense encoder name."""

    def __init__(self, models: dict[str, LogisticModel], meta: dict | None = None) -> None:
        self.models = models
        self.meta = meta or {}

    @classmethod
    def load(cls, path: Path) -> Calibrator:
        if not path.exists():
            log.warning("no calibration file %s: answerable falls back to lexical coverage", path)
            return cls({})
        data = json.loads(path.read_text(encoding="utf-8"))
        models = {name: LogisticModel(list(m["coef"]), float(m["intercept"])) for name, m in data["models"].items()}
        return cls(models, data)

    def prob(self, encoder_name: str, feats: dict[str, float]) -> float:
        model = self.models.get(encoder_name)
        if model is None:  # uncalibrated encoder: a conservative stand-in, documented in retrieval.yml
            return max(0.0, min(1.0, feats["lex_cov"]))
        return model.prob(feats)
