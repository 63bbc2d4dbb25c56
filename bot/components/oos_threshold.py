"""Out-of-scope threshold fitted per bot at training time, from the bot's own training data.

Why: a fixed confidence threshold means something different on every bot: with 5 examples per intent the
classifier is rarely confident and a fixed 0.65 sends most in-scope messages to the fallback; with 80 it is
confident even on nonsense and lets unknown requests through. So the threshold is learned per bot by
simulating what it cannot see at training time, messages about things it was never trained on:

* the intents are grouped into topics (clusters of about `topic_size` intents with similar example
  centroids) and the topics into groups; each round trains the classifier without one group (those
  intents' examples become pseudo out-of-scope messages) and without one fold of the remaining intents'
  examples (pseudo in-scope messages, with their true intent). Whole topics are held out because a real
  unknown request is usually about something the bot does not cover at all; holding out single intents
  whose siblings stay ("return" without "exchange") makes the simulated unknowns look more familiar than
  real ones and pushes the threshold up (measured: docs/benchmarks.md);
* every held-out message gets the classifier's novelty score (the largest raw logit: how far the message
  lies on the inside of its best intent's decision boundary, in the units of the bot's own model);
* the threshold is the one that maximises the balanced score on those messages: the mean of in-scope
  accuracy (a fallback counts as wrong) and out-of-scope recall. Messages predicted as one of the bot's own
  out-of-scope intents (e.g. `out_of_scope`) already count as caught, so a bot with such an intent gets a
  lower threshold than one without.

Pure numpy + a caller-supplied fit function, so it is testable without Rasa.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

# fit(x, y, n_classes) -> (coef [n_classes, d], intercept [n_classes])
FitFn = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class OosFit:
    """The fitted threshold and what it achieved on the simulated messages (for logs and reports)."""

    threshold: float
    balanced: float
    in_scope_accuracy: float
    in_scope_fallback_rate: float
    oos_recall: float
    n_in_scope: int
    n_oos: int

    def as_dict(self) -> dict[str, float]:
        """JSON-ready form (stored next to the model)."""
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def novelty_score(logits: np.ndarray) -> np.ndarray:
    """Largest raw logit per row: low when a message is far from every intent the bot knows."""
    return np.asarray(logits).max(axis=1)


def topics(centroids: np.ndarray, topic_size: float) -> np.ndarray:
    """Cluster intents by their (unit-length) example centroids: average linkage, ~topic_size per cluster."""
    n = len(centroids)
    n_topics = max(1, min(n, int(round(n / topic_size))))
    if topic_size <= 1 or n_topics >= n:
        return np.arange(n)
    from sklearn.cluster import AgglomerativeClustering

    unit = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    return AgglomerativeClustering(n_clusters=n_topics, linkage="average").fit_predict(unit)


def intent_groups(
    topic_of: np.ndarray, n_groups: int, rng: np.random.Generator, protected: Sequence[int] = ()
) -> np.ndarray:
    """Assign whole topics to groups (largest first, to the emptiest group, random tie order).

    Protected intents (the bot's own out-of-scope intents) get -1: never held out.
    """
    group = np.full(len(topic_of), -1, dtype=int)
    free = np.array([i for i in range(len(topic_of)) if i not in set(protected)], dtype=int)
    names, sizes = np.unique(topic_of[free], return_counts=True)
    load = np.zeros(n_groups)
    for k in sorted(range(len(names)), key=lambda k: (-sizes[k], rng.random())):
        g = int(np.argmin(load + rng.random(n_groups) * 1e-6))
        members = free[topic_of[free] == names[k]]
        group[members] = g
        load[g] += sizes[k]
    return group


def choose_threshold(
    scores: np.ndarray,
    correct: np.ndarray,
    is_oos: np.ndarray,
    caught: np.ndarray,
    max_false_fallback: float = 1.0,
    n_candidates: int = 400,
) -> tuple[float, dict[str, float]]:
    """Threshold maximising the balanced score; `caught` marks OOS rows handled without the threshold.

    Candidates are score quantiles; ties go to the lower threshold (fewer fallbacks). Only thresholds whose
    in-scope fallback rate is at most `max_false_fallback` are considered (all of them by default).
    """
    if not is_oos.any() or is_oos.all():
        raise ValueError("need both in-scope and out-of-scope rows to choose a threshold")
    in_scope = ~is_oos
    candidates = np.unique(np.quantile(scores, np.linspace(0.0, 1.0, n_candidates + 1)))
    best: tuple[float, float, dict[str, float]] | None = None
    for t in candidates:
        accepted = scores >= t
        fallback_rate = float((~accepted)[in_scope].mean())
        if fallback_rate > max_false_fallback and best is not None:
            continue
        acc = float((correct & accepted)[in_scope].mean())
        recall = float(((~accepted) | caught)[is_oos].mean())
        balanced = 0.5 * (acc + recall)
        stats = {"in_scope_accuracy": acc, "in_scope_fallback_rate": fallback_rate, "oos_recall": recall}
        if fallback_rate > max_false_fallback:  # nothing allowed yet: keep the lowest threshold as a floor
            best = (float(t), -1.0, stats)
        elif best is None or balanced > best[1]:
            best = (float(t), balanced, stats)
    assert best is not None
    return best[0], {"balanced": max(best[1], 0.0), **best[2]}


def fit_oos_threshold(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    fit: FitFn,
    oos_classes: Sequence[int] = (),
    n_groups: int = 5,
    repeats: int = 2,
    max_false_fallback: float = 1.0,
    seed: int = 42,
    topic_size: float = 1.0,
) -> OosFit:
    """Simulate unknown intents on the training data and return the fitted novelty threshold."""
    trainable = [c for c in range(n_classes) if c not in set(oos_classes)]
    if len(trainable) < n_groups + 1:
        raise ValueError(f"need at least {n_groups + 1} in-scope intents to simulate unknown ones")
    rng = np.random.default_rng(seed)
    scores, correct, is_oos, caught = [], [], [], []
    oos_set = np.array(sorted(set(oos_classes)), dtype=int)
    dense = np.asarray(x.todense() if hasattr(x, "todense") else x)
    topic_of = topics(np.vstack([dense[y == c].mean(axis=0) for c in range(n_classes)]), topic_size)
    for _ in range(repeats):
        group = intent_groups(topic_of, n_groups, rng, protected=oos_classes)
        if len(np.unique(group[group >= 0])) < n_groups:
            raise ValueError(f"fewer than {n_groups} topics to hold out")
        example_fold = np.empty(len(y), dtype=int)
        for c in range(n_classes):
            members = rng.permutation(np.flatnonzero(y == c))
            example_fold[members] = np.arange(len(members)) % n_groups
        for g in range(n_groups):
            held_intent = group[y] == g
            held_example = ~held_intent & (example_fold == g)
            train = ~held_intent & ~held_example
            # an intent whose examples all landed in the held-out fold keeps one for training
            classes = np.unique(y[train])
            if len(classes) < 2:
                continue
            remap = np.full(n_classes, -1, dtype=int)
            remap[classes] = np.arange(len(classes))
            coef, intercept = fit(x[train], remap[y[train]], len(classes))
            test = held_intent | held_example
            logits = np.asarray(x[test] @ coef.T) + intercept
            predicted = classes[np.argmax(logits, axis=1)]
            gold = y[test]
            explicit_oos = np.isin(gold, oos_set)
            scores.append(novelty_score(logits))
            correct.append(predicted == gold)
            is_oos.append(held_intent[test] | explicit_oos)
            caught.append(np.isin(predicted, oos_set))
    all_scores, all_correct = np.concatenate(scores), np.concatenate(correct)
    all_oos, all_caught = np.concatenate(is_oos), np.concatenate(caught)
    threshold, stats = choose_threshold(all_scores, all_correct, all_oos, all_caught, max_false_fallback)
    return OosFit(
        threshold=threshold,
        balanced=stats["balanced"],
        in_scope_accuracy=stats["in_scope_accuracy"],
        in_scope_fallback_rate=stats["in_scope_fallback_rate"],
        oos_recall=stats["oos_recall"],
        n_in_scope=int((~all_oos).sum()),
        n_oos=int(all_oos.sum()),
    )
