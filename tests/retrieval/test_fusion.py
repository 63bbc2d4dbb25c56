"""Per-query fusion: a ranking whose top scores are a flat plateau must not outvote a confident one."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.fusion import FusionConfig, confidence, dense_weight, fuse


def test_confidence_is_zero_when_flat_and_high_when_one_candidate_stands_out() -> None:
    flat = np.array([3.0] * 12 + [0.0] * 8)  # e.g. BM25 when the only matching word is in a dozen articles
    clear = np.array([0.90, 0.70, 0.68, 0.67, 0.66, 0.65, 0.64, 0.63])
    assert confidence(flat) < 0.05
    assert confidence(clear) > 0.3
    assert confidence(np.array([1.0])) == 0.0 and confidence(np.zeros(5)) == 0.0
    # the same shape means the same confidence whatever the score scale (cosines vs BM25 points)
    assert confidence(clear * 40 + 7) == pytest.approx(confidence(clear), abs=1e-6)


def test_adaptive_follows_the_confident_ranking() -> None:
    # candidate 0: what BM25 ranks first among a plateau; candidate 3: dense's clear winner
    lex = np.array([5.0, 4.9, 4.9, 4.2, 4.8, 4.8, 4.8, 4.7, 0.0, 0.0, 0.0, 0.0])
    dense = np.array([0.80, 0.79, 0.78, 0.83, 0.70, 0.69, 0.68, 0.67, 0.66, 0.65, 0.64, 0.63])
    cfg = FusionConfig(method="adaptive")
    assert dense_weight(dense, lex) > 0.5
    assert int(np.argmax(fuse(dense, lex, cfg))) == 3
    # a fixed 50/50 min-max mix ranks BM25's plateau leader first: the defect this fusion removes
    assert int(np.argmax(fuse(dense, lex, FusionConfig(method="weighted", dense_weight=0.5)))) == 0
    # symmetric case: BM25 sure (one passage has every query word), dense undecided
    lex2 = np.array([1.0, 1.0, 9.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.0, 0.0])
    dense2 = np.array([0.81, 0.80, 0.795, 0.80, 0.79, 0.80, 0.81, 0.80, 0.79, 0.80])
    assert dense_weight(dense2, lex2) < 0.5 and int(np.argmax(fuse(dense2, lex2, cfg))) == 2


def test_bad_fusion_settings_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="fusion.method"):
        FusionConfig.from_settings({"method": "magic"})
    with pytest.raises(ValueError, match="confidence_top"):
        FusionConfig.from_settings({"method": "adaptive", "confidence_top": 1})
    cfg = FusionConfig.from_settings({"method": "weighted", "dense_weight": 0.7, "dense_weight_by_encoder": {"m": 0.2}})
    assert cfg.dense_weight == 0.7 and cfg.dense_weight_by_encoder == {"m": 0.2}
