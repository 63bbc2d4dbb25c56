"""Combining the dense and BM25 scores of one query's candidates into one ranking.

Why per query: which ranking deserves trust changes from question to question and from data set to data
set. A fixed weight tuned on one benchmark (the old ``dense_weight`` per encoder) put the hybrid below
BM25 alone on other data. ``adaptive`` (the default) looks at how each ranking's scores are *shaped* for
this query: a ranking whose top candidates stand out clearly from the rest is confident; one whose top
scores are a flat plateau (e.g. BM25 when the only matching word is "pedido", which half the articles
contain, or BM25 across languages) is not. Each ranking's confidence is one minus the normalised entropy
of a softmax over its top ``top`` scores, with the temperature set to the standard deviation of its
scores over all candidates, so it means the same for cosines and for BM25 points; BM25's confidence is
also multiplied by its coverage (the share of the question's keyword weight its best candidate matched),
because a peak on one rare word says little when most of the question went unmatched. Each signal's weight is
proportional to its confidence (``sharpness`` p = 1; ``c^p`` in general) and the scores are min-max scaled
before mixing, as before. A third signal, question-to-title similarity (an FAQ-retrieval classic: the
customer's question paraphrases an article title), joins the mix, scaled down where titles are shared by
many documents and so cannot tell them apart. Chosen on the dev splits of FAQuAD, StackFAQ with MiniLM and
StackFAQ with e5 together (``python -m bench.retrieval.fusion compare``): without the title signal, the
adaptive mix trusted BM25's peaky scores too much on StackFAQ and fell below dense alone.

``weighted`` (fixed weight, optionally per encoder) and ``rrf`` (reciprocal-rank fusion) stay available
for comparison; ``python -m bench.retrieval.fusion compare`` measures all of them on several data sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

METHODS = ("adaptive", "weighted", "rrf")


@dataclass(frozen=True)
class FusionConfig:
    """The ``fusion`` block of retrieval.yml (only the keys fusion itself uses)."""

    method: str = "adaptive"
    dense_weight: float = 0.5  # weighted / rrf
    dense_weight_by_encoder: dict[str, float] = field(default_factory=dict)  # weighted / rrf
    rrf_k: float = 60.0
    normalization: str = "minmax"  # weighted: minmax or zscore
    confidence_top: int = 10  # adaptive: how many top scores describe a ranking's shape
    sharpness: float = 1.0  # adaptive: p in cd^p / (cd^p + cl^p); 1 = proportional, higher = decisive
    title_signal: bool = True  # adaptive: also fuse question-to-title similarity (see retrieval/search.py)

    @classmethod
    def from_settings(cls, cfg: dict) -> FusionConfig:
        method = str(cfg.get("method", "adaptive"))
        if method not in METHODS:
            raise ValueError(f"retrieval.yml: fusion.method {method!r} must be one of {', '.join(METHODS)}")
        top = int(cfg.get("confidence_top", 10))
        sharp = float(cfg.get("sharpness", 1.0))
        if top < 2 or sharp <= 0:
            raise ValueError("retrieval.yml: fusion.confidence_top must be >= 2 and fusion.sharpness > 0")
        return cls(method=method, dense_weight=float(cfg.get("dense_weight", 0.5)),
                   dense_weight_by_encoder={k: float(v) for k, v in (cfg.get("dense_weight_by_encoder") or {}).items()},
                   rrf_k=float(cfg.get("rrf_k", 60)), normalization=str(cfg.get("normalization", "minmax")),
                   confidence_top=top, sharpness=sharp, title_signal=bool(cfg.get("title_signal", True)))


def minmax(x: np.ndarray) -> np.ndarray:
    """Scale to 0..1 within this query's candidates (all equal → all 1)."""
    if len(x) == 0:
        return x
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.ones_like(x)


def zscore(x: np.ndarray) -> np.ndarray:
    if len(x) == 0:
        return x
    sd = float(x.std())
    return (x - float(x.mean())) / sd if sd > 0 else np.zeros_like(x)


def ranks(x: np.ndarray) -> np.ndarray:
    """1 = best; ties keep candidate order."""
    order = np.argsort(-x, kind="stable")
    r = np.empty(len(x), np.float32)
    r[order] = np.arange(1, len(x) + 1)
    return r


def weighted(dense: np.ndarray, lex: np.ndarray, w: float, normalization: str = "minmax") -> np.ndarray:
    norm = zscore if normalization == "zscore" else minmax
    return w * norm(dense) + (1 - w) * norm(lex)


def rrf(dense: np.ndarray, lex: np.ndarray, w: float = 0.5, k: float = 60.0) -> np.ndarray:
    return w / (k + ranks(dense)) + (1 - w) / (k + ranks(lex))


def confidence(scores: np.ndarray, top: int = 10) -> float:
    """0 (flat: the top candidates are indistinguishable) .. 1 (one candidate stands out).

    1 − normalised entropy of softmax(top scores / σ), σ = spread of the scores over all candidates.
    """
    if len(scores) < 2:
        return 0.0
    sd = float(scores.std())
    if sd <= 0:
        return 0.0
    s = np.sort(scores)[::-1][:top]
    p = np.exp((s - s[0]) / sd)
    p /= p.sum()
    ent = float(-(p * np.log(p)).sum())
    return max(0.0, 1.0 - ent / float(np.log(len(s))))


def lexical_coverage(lex: np.ndarray) -> float:
    """Share of the question's keyword weight that the best candidate matches (``lex`` = BM25 / its bound).

    BM25's scores can be sharply peaked on one rare word while most of the question went unmatched
    (paraphrases, the other language): its shape then overstates how much it knows.
    """
    return float(np.clip(lex.max(), 0.0, 1.0)) if len(lex) else 0.0


def dense_weight(dense: np.ndarray, lex: np.ndarray, top: int = 10, sharpness: float = 1.0) -> float:
    """This query's weight of the dense ranking, two signals (0.5 when neither ranking is confident)."""
    cd = confidence(dense, top) ** sharpness
    cl = (lexical_coverage(lex) * confidence(lex, top)) ** sharpness
    return cd / (cd + cl) if cd + cl > 0 else 0.5


def adaptive(signals: list[np.ndarray], top: int = 10, sharpness: float = 1.0,
             priors: list[float] | None = None) -> np.ndarray:
    """Min-max scaled signals mixed with weights ∝ (prior·confidence)^sharpness (equal if none is confident).

    ``priors`` (default 1 each) scale a signal that can only be partly informative on this corpus.
    """
    priors = priors or [1.0] * len(signals)
    conf = np.array([(p * confidence(x, top)) ** sharpness for x, p in zip(signals, priors, strict=True)])
    w = conf / conf.sum() if conf.sum() > 0 else np.full(len(signals), 1.0 / len(signals))
    return sum(wi * minmax(x) for wi, x in zip(w.tolist(), signals, strict=True))  # type: ignore[return-value]


def fuse(dense: np.ndarray, lex: np.ndarray, cfg: FusionConfig, encoder_key: str = "default",
         title: np.ndarray | None = None, title_distinct: float = 1.0) -> np.ndarray:
    """Fused score of each candidate (higher is better; comparable only within this query).

    ``title`` (question-to-title cosine of each candidate's article) joins the adaptive mix when given.
    ``title_distinct`` is the share of the corpus's articles whose title no other article has: where many
    documents share one title (paragraphs of one long document) the title cannot tell them apart, so its
    weight shrinks with that share (help center and FAQ: 1.0; FAQuAD paragraphs: 0.16).
    """
    if cfg.method == "adaptive":
        coverage = lexical_coverage(lex)
        if title is not None and cfg.title_signal:
            return adaptive([dense, lex, title], cfg.confidence_top, cfg.sharpness, [1.0, coverage, title_distinct])
        return adaptive([dense, lex], cfg.confidence_top, cfg.sharpness, [1.0, coverage])
    w = cfg.dense_weight_by_encoder.get(encoder_key, cfg.dense_weight)
    if cfg.method == "rrf":
        return rrf(dense, lex, w, cfg.rrf_k)
    return weighted(dense, lex, w, cfg.normalization)
