"""Out-of-scope detection fitted per bot, gibberish and tiny messages (issue #11, item 2).

The threshold search is checked on synthetic data where the right answer is known; the gibberish cases run
through the bot's real trained model (the same one `make run` serves) and the real language detector.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from bot.components.language_detector import ShortTextLanguageRule, looks_like_word
from bot.components.oos_threshold import choose_threshold, fit_oos_threshold, intent_groups, topics


def nearest_centroid_fit(x: np.ndarray, y: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A tiny real classifier for the threshold search: logits = scaled cosine to each class centroid."""
    centroids = np.vstack([x[y == c].mean(axis=0) for c in range(n_classes)])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    return 10.0 * centroids, np.zeros(n_classes)


def blobs(n_classes: int, per_class: int, dim: int = 32, spread: float = 0.25, seed: int = 0):
    """Unit vectors scattered around random, well separated class centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = np.repeat(centres, per_class, axis=0) + spread * rng.normal(size=(n_classes * per_class, dim)) / np.sqrt(dim)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, np.repeat(np.arange(n_classes), per_class)


def test_choose_threshold_separates_known_from_unknown() -> None:
    scores = np.array([9.0, 8.5, 8.0, 7.5, 3.0, 2.5, 2.0])
    is_oos = np.array([False, False, False, False, True, True, True])
    correct = ~is_oos
    threshold, stats = choose_threshold(scores, correct, is_oos, np.zeros(7, bool))
    assert 3.0 < threshold <= 7.5
    assert stats["balanced"] == pytest.approx(1.0)


def test_choose_threshold_respects_the_false_fallback_cap() -> None:
    scores = np.array([9.0, 8.0, 7.0, 2.5, 3.0, 2.0])  # one in-scope row scores below an unknown one
    is_oos = np.array([False, False, False, False, True, True])
    uncapped, loose = choose_threshold(scores, ~is_oos, is_oos, np.zeros(6, bool))
    capped, stats = choose_threshold(scores, ~is_oos, is_oos, np.zeros(6, bool), max_false_fallback=0.2)
    assert uncapped > 3.0 and loose["in_scope_fallback_rate"] == 0.25
    assert capped <= 2.5 and stats["in_scope_fallback_rate"] == 0.0


def test_rows_caught_by_an_out_of_scope_intent_need_no_threshold() -> None:
    scores = np.array([9.0, 8.0, 7.0, 8.5, 8.2])
    is_oos = np.array([False, False, False, True, True])
    caught = np.array([False, False, False, True, True])  # predicted as the bot's own out_of_scope intent
    threshold, stats = choose_threshold(scores, ~is_oos, is_oos, caught)
    assert threshold <= 7.0 and stats["oos_recall"] == 1.0


def test_choose_threshold_rejects_data_without_both_kinds() -> None:
    with pytest.raises(ValueError, match="both"):
        choose_threshold(np.ones(3), np.ones(3, bool), np.zeros(3, bool), np.zeros(3, bool))


def test_fitted_threshold_rejects_unseen_classes_and_keeps_known_ones() -> None:
    x, y = blobs(n_classes=14, per_class=8, seed=1)
    known, unknown = y < 10, y >= 10  # 4 classes the bot never sees
    fitted = fit_oos_threshold(x[known], y[known], 10, nearest_centroid_fit, n_groups=5, repeats=2)
    rng = np.random.default_rng(7)
    fresh_x = x + 0.05 * rng.normal(size=x.shape) / np.sqrt(x.shape[1])
    coef, intercept = nearest_centroid_fit(x[known], y[known], 10)
    scores = (fresh_x @ coef.T + intercept).max(axis=1)
    assert (scores[known] >= fitted.threshold).mean() >= 0.9
    assert (scores[unknown] < fitted.threshold).mean() >= 0.9
    assert fitted.n_oos > 0 and fitted.n_in_scope > 0 and 0.5 < fitted.balanced <= 1.0


def test_too_few_intents_is_a_clear_error() -> None:
    x, y = blobs(n_classes=4, per_class=5)
    with pytest.raises(ValueError, match="at least 6 in-scope intents"):
        fit_oos_threshold(x, y, 4, nearest_centroid_fit, n_groups=5)


def test_intent_groups_never_hold_out_protected_intents() -> None:
    group = intent_groups(np.arange(11), 5, np.random.default_rng(0), protected=[3])
    assert group[3] == -1
    assert sorted(np.bincount(group[group >= 0])) == [2, 2, 2, 2, 2]


def test_topics_cluster_similar_intents() -> None:
    base = np.eye(3)
    centroids = np.vstack([base[0], base[0] + 0.01, base[1], base[1] + 0.01, base[2], base[2] + 0.01])
    topic = topics(centroids, topic_size=2)
    assert topic[0] == topic[1] and topic[2] == topic[3] and topic[4] == topic[5]
    assert len(set(topic)) == 3


# ---- language: meaningless input never switches --------------------------------------------------


@pytest.mark.parametrize("text", ["zxqv wplm", "fdsfsd", "jjjjj", "qwrtz xkcd", "hmmm"])
def test_keyboard_mashing_gets_no_language(text: str) -> None:
    assert ShortTextLanguageRule().detect(text).language is None


@pytest.mark.parametrize("word", ["strengths", "rhythm", "obrigado", "pedido", "why", "a", "nao", "crypt"])
def test_real_words_look_like_words(word: str) -> None:
    assert looks_like_word(word)


# ---- the bot's real model ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bot_agent() -> Any:
    """The project's trained model (trained on first use, then cached by fingerprint)."""
    from rasa.core.agent import Agent

    from scripts.train_model import ensure_model

    return Agent.load(str(ensure_model()))


def parse(agent: Any, text: str) -> dict[str, Any]:
    return asyncio.run(agent.parse_message(text))


def languages(result: dict[str, Any]) -> list[str]:
    return [e["value"] for e in result["entities"] if e["entity"] == "language"]


@pytest.mark.parametrize("text", ["zxqv wplm", "blorf snark quux", "qwerty uiop", "lorem ipsum"])
def test_gibberish_falls_back_without_switching_language(bot_agent: Any, text: str) -> None:
    result = parse(bot_agent, text)
    assert result["intent"]["name"] == "nlu_fallback", result["intent_ranking"][:3]
    assert languages(result) == []


def test_pix_question_is_not_a_yes(bot_agent: Any) -> None:
    result = parse(bot_agent, "pix?")
    assert result["intent"]["name"] != "affirm", result["intent_ranking"][:3]
    assert languages(result) == []


@pytest.mark.parametrize(
    ("text", "intent", "language"),
    [
        ("cade meu pedido 20481234", "order_status", "pt"),
        ("where is my order", "order_status", "en"),
        ("obrigado", "thanks", "pt"),
        ("thanks", "thanks", "en"),
        ("oi", "greet", "pt"),
        ("sim", "affirm", "pt"),
        ("yes", "affirm", "en"),
    ],
)
def test_ordinary_short_messages_still_understood(bot_agent: Any, text: str, intent: str, language: str) -> None:
    result = parse(bot_agent, text)
    assert result["intent"]["name"] == intent, result["intent_ranking"][:3]
    assert languages(result) == [language]


def test_model_carries_its_fitted_threshold(bot_agent: Any) -> None:
    novelty = parse(bot_agent, "meu pedido nao chegou")["intent_novelty"]
    assert novelty["threshold"] is not None and novelty["score"] > novelty["threshold"]
