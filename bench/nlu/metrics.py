"""Classification metrics for the NLU benchmark (plain Python, so they are easy to check in tests)."""

from __future__ import annotations

import math
from collections import Counter

FALLBACK = "nlu_fallback"


def per_label_f1(gold: list[str], pred: list[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of every gold label."""
    tp, fp, fn = Counter(), Counter(), Counter()
    for g, p in zip(gold, pred, strict=True):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    out = {}
    for label in sorted(set(gold)):
        precision = tp[label] / max(1, tp[label] + fp[label])
        recall = tp[label] / max(1, tp[label] + fn[label])
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp[label] + fn[label]}
    return out


def accuracy(gold: list[str], pred: list[str]) -> float:
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / max(1, len(gold))


def apply_threshold(
    top: list[tuple[str, float, float]], threshold: float, ambiguity: float = 0.0
) -> list[str]:
    """Predicted labels under FallbackClassifier's rule: confidence below `threshold`, or the top two
    closer than `ambiguity`, becomes the fallback. `top` holds (intent, confidence, runner-up confidence)."""
    return [
        name if conf >= threshold and conf - second >= ambiguity else FALLBACK for name, conf, second in top
    ]


def oos_scores(gold: list[str], pred: list[str], oos_label: str) -> dict[str, float]:
    """In-scope accuracy (a fallback on an in-scope row is wrong) and OOS recall/precision."""
    in_scope = [(g, p) for g, p in zip(gold, pred, strict=True) if g != oos_label]
    oos = [p for g, p in zip(gold, pred, strict=True) if g == oos_label]
    flagged = [g for g, p in zip(gold, pred, strict=True) if p in (FALLBACK, oos_label)]
    return {
        "in_scope_accuracy": sum(g == p for g, p in in_scope) / max(1, len(in_scope)),
        "in_scope_fallback_rate": sum(p in (FALLBACK, oos_label) for _, p in in_scope) / max(1, len(in_scope)),
        "oos_recall": sum(p in (FALLBACK, oos_label) for p in oos) / max(1, len(oos)),
        "oos_precision": sum(g == oos_label for g in flagged) / max(1, len(flagged)),
        "n_in_scope": len(in_scope),
        "n_oos": len(oos),
    }


def threshold_sweep(
    gold: list[str],
    top: list[tuple[str, float, float]],
    oos_label: str,
    thresholds: list[float],
    ambiguity: float = 0.0,
) -> list[dict[str, float]]:
    """OOS metrics for each candidate fallback threshold (ambiguity threshold kept fixed)."""
    rows = []
    for t in thresholds:
        scores = oos_scores(gold, apply_threshold(top, t, ambiguity), oos_label)
        rows.append({"threshold": t, **{k: v for k, v in scores.items() if not k.startswith("n_")}})
    return rows


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[k]
