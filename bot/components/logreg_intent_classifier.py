"""Fast intent classifier: multinomial logistic regression on sentence features, as a Rasa component.

Why: on multilingual e5 sentence embeddings a linear model is as accurate as DIET on intent
classification and trains in seconds, so retraining after every edit of the NLU data is cheap.
Optionally it also reads the sparse sentence features of a CountVectorsFeaturizer (char n-grams help
with product names and typos that the embedding smooths over).

Confidences are softmax probabilities divided by a temperature fitted on held-out folds of the
training data (temperature scaling). Out-of-scope detection (`oos_detection`, on by default) replaces a
fixed FallbackClassifier threshold: the novelty score of a message (its largest raw logit) is compared
with a threshold fitted per bot at training time by simulating unknown intents on the bot's own data
(`bot.components.oos_threshold`); below it the message gets `nlu_fallback`, exactly as
FallbackClassifier would set it (first in the ranking, the classifier's own guesses after it). A short
message none of whose words occur anywhere in the bot's training data ("zxqv wplm", "blorf snark quux")
also falls back: an embedding of words the bot has never seen is still close to *something*; and a tiny
message (one word) falls back when that word never occurs in the examples of the intent it got: "pix?"
is not a "yes" just because both are short.
The model is saved as plain numpy arrays + JSON in Rasa's ModelStorage (no pickle: loading a model must
not execute code).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import numpy as np
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.oos_threshold import fit_oos_threshold, novelty_score
from textnorm import fold

logger = logging.getLogger(__name__)

MODEL_FILE = "logreg.npz"
META_FILE = "logreg.json"
# Extra key in the parse output: the novelty score and the bot's fitted threshold (for benchmarks and logs).
NOVELTY_KEY = "intent_novelty"
_ALPHA_WORD = re.compile(r"[a-z]{2,}")


def alpha_words(text: str) -> set[str]:
    """Folded alphabetic words of 2+ letters (numbers, ids and emoji say nothing about the vocabulary)."""
    return set(_ALPHA_WORD.findall(fold(text)))


def with_variants(words: list[str]) -> set[str]:
    """Training words plus what informal writing does to them: 1-2 letters cut off ('obrigad')."""
    out = set(words)
    out.update(w[: len(w) - cut] for w in words for cut in (1, 2) if len(w) - cut >= 4)
    return out


def known(word: str, vocabulary: frozenset[str]) -> bool:
    """In the vocabulary, or a known word with 1-2 letters added ('oii', 'obrigadoo', 'pedidos').

    Stems shorter than 4 letters only count for words of up to 3 letters: 'blorf' must not pass as 'blo…'.
    """
    shortest = 2 if len(word) <= 3 else 4
    return any(word[:k] in vocabulary for k in range(max(shortest, len(word) - 2), len(word) + 1))


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood of held-out logits (grid + refine, 1-D)."""

    def nll(t: float) -> float:
        p = softmax(logits / t)
        return float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))

    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 60))
    best = min(grid, key=nll)
    fine = best * np.exp(np.linspace(-0.1, 0.1, 21))
    return float(min(fine, key=nll))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LogRegIntentClassifier(GraphComponent, IntentClassifier):
    """Multinomial logistic regression over dense (+ optional sparse) sentence features."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Needs at least one dense featurizer (the e5 one) before it."""
        return [DenseFeaturizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults chosen on BANKING77/HWU64 (docs/benchmarks.md)."""
        return {
            "C": 100.0,  # inverse L2 strength (e5 vectors are unit-length: weak regularisation fits best)
            "standardize": False,  # z-score the dense block (then a much smaller C, ~0.1, fits best)
            "max_iter": 300,
            "class_weight": None,  # or "balanced" when intents have very uneven example counts
            "use_sparse": False,  # also read sparse sentence features (CountVectorsFeaturizer)
            "sparse_weight": 1.0,  # scale of the L2-normalised sparse block relative to the dense one
            "featurizers": [],  # names of featurizers to read; empty = all
            "calibration_folds": 3,  # 0 disables temperature scaling
            "ranking_length": 10,
            "random_seed": 42,
            # out-of-scope detection with a threshold fitted on the training data (see oos_threshold.py)
            "oos_detection": True,
            "oos_groups": 5,  # intents are split into this many groups, each held out once per repeat
            "oos_topic_size": 1.0,  # >1: hold out clusters of ~this many similar intents together
            "oos_repeats": 2,  # more repeats = a steadier threshold, one extra fit per group each
            "oos_large_data": 5000,  # above this many examples one repeat is enough (and saves minutes)
            "oos_intents": ["out_of_scope"],  # the bot's own out-of-scope intents: predicting them is a catch
            "oos_max_false_fallback": 1.0,  # optional cap on the simulated in-scope fallback rate
            # messages of at most this many words, none of them in the training vocabulary, fall back (0: off)
            "unknown_words_max_words": 3,
            # messages of at most this many words need one word seen in the predicted intent's examples (0: off)
            "tiny_message_max_words": 1,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: dict[str, Any] | None = None,
    ) -> None:
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LogRegIntentClassifier:
        """A new, untrained classifier."""
        return cls(config, model_storage, resource)

    @staticmethod
    def required_packages() -> list[str]:
        """scikit-learn fits the model; prediction is plain numpy."""
        return ["sklearn"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Fail at config time with a clear message, not in the middle of training."""
        if int(config["oos_groups"]) < 2 or int(config["oos_repeats"]) < 1:
            raise ValueError("LogRegIntentClassifier: oos_groups must be >= 2 and oos_repeats >= 1")
        if not 0.0 < float(config["oos_max_false_fallback"]) <= 1.0:
            raise ValueError("LogRegIntentClassifier: oos_max_false_fallback must be in (0, 1]")
        if not isinstance(config["oos_intents"], list):
            raise ValueError("LogRegIntentClassifier: oos_intents must be a list of intent names")

    # ---- features ---------------------------------------------------------------------------------

    def _features(self, messages: list[Message]) -> tuple[np.ndarray, sp.csr_matrix | None]:
        """Stack the dense and (optionally) sparse sentence features of the messages."""
        names = self.component_config["featurizers"] or None
        dense_rows, sparse_rows = [], []
        for message in messages:
            _, dense = message.get_dense_features(TEXT, names)
            if dense is None:
                raise ValueError(
                    "LogRegIntentClassifier needs dense sentence features: put E5SentenceFeaturizer before it."
                )
            dense_rows.append(np.asarray(dense.features, dtype=np.float32).reshape(-1))
            if self.component_config["use_sparse"]:
                _, sparse = message.get_sparse_features(TEXT, names)
                if sparse is None:
                    raise ValueError("use_sparse=true needs a CountVectorsFeaturizer before the classifier.")
                sparse_rows.append(sp.csr_matrix(sparse.features, dtype=np.float32))
        dense_x = np.vstack(dense_rows)
        if not sparse_rows:
            return dense_x, None
        sparse_x = sp.vstack(sparse_rows).tocsr()
        norms = np.sqrt(np.asarray(sparse_x.multiply(sparse_x).sum(axis=1))).reshape(-1)
        norms[norms == 0] = 1.0
        sparse_x = sp.diags(self.component_config["sparse_weight"] / norms) @ sparse_x
        return dense_x, sparse_x.tocsr()

    def _design(self, dense_x: np.ndarray, sparse_x: sp.csr_matrix | None, mean: np.ndarray, scale: np.ndarray):
        """Shift/scale the dense block (identity unless `standardize`) and append the sparse one."""
        z = (dense_x - mean) / scale
        if sparse_x is None:
            return z
        if sparse_x.shape[1] != self.model_sparse_dim:
            raise ValueError(f"sparse features have {sparse_x.shape[1]} columns, expected {self.model_sparse_dim}")
        return sp.hstack([sp.csr_matrix(z), sparse_x]).tocsr()

    @property
    def model_sparse_dim(self) -> int:
        return int(self.model["sparse_dim"]) if self.model else 0

    # ---- training ---------------------------------------------------------------------------------

    def _fit(self, x: Any, y: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
        """Fit sklearn's multinomial LR; return (coef [n_classes, d], intercept [n_classes])."""
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(
            C=float(self.component_config["C"]),
            max_iter=int(self.component_config["max_iter"]),
            class_weight=self.component_config["class_weight"],
            random_state=int(self.component_config["random_seed"]),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(x, y)
        coef, intercept = clf.coef_, clf.intercept_
        if n_classes == 2:  # binary LR keeps one row: sigmoid(d) == softmax([-d/2, d/2])
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        full_coef = np.zeros((n_classes, x.shape[1]), dtype=np.float32)
        full_intercept = np.full(n_classes, -1e4, dtype=np.float32)
        full_coef[clf.classes_] = coef
        full_intercept[clf.classes_] = intercept
        return full_coef, full_intercept

    def _temperature(self, x: Any, y: np.ndarray, n_classes: int) -> float:
        """Temperature from out-of-fold logits; 1.0 when there is too little data to hold any out."""
        folds = int(self.component_config["calibration_folds"])
        if folds < 2 or np.min(np.bincount(y, minlength=n_classes)) < folds:
            return 1.0
        from sklearn.model_selection import StratifiedKFold

        logits = np.zeros((len(y), n_classes), dtype=np.float64)
        splitter = StratifiedKFold(folds, shuffle=True, random_state=int(self.component_config["random_seed"]))
        for train_idx, held_idx in splitter.split(np.zeros(len(y)), y):
            coef, intercept = self._fit(x[train_idx], y[train_idx], n_classes)
            logits[held_idx] = x[held_idx] @ coef.T + intercept
        return fit_temperature(logits, y)

    def _fit_oos(self, x: Any, y: np.ndarray, labels: list[str]) -> dict[str, Any] | None:
        """The bot's novelty threshold, or None (no fallback from this component) when it cannot be fitted."""
        if not self.component_config["oos_detection"]:
            return None
        oos_names = set(self.component_config["oos_intents"])
        try:
            fitted = fit_oos_threshold(
                x,
                y,
                len(labels),
                self._fit,
                oos_classes=[i for i, name in enumerate(labels) if name in oos_names],
                n_groups=int(self.component_config["oos_groups"]),
                repeats=1 if len(y) > int(self.component_config["oos_large_data"]) else int(
                    self.component_config["oos_repeats"]
                ),
                max_false_fallback=float(self.component_config["oos_max_false_fallback"]),
                seed=int(self.component_config["random_seed"]),
                topic_size=float(self.component_config["oos_topic_size"]),
            )
        except ValueError as exc:
            logger.warning(f"LogRegIntentClassifier: no out-of-scope threshold ({exc}); it will never fall back.")
            return None
        return fitted.as_dict()

    def train(self, training_data: TrainingData) -> Resource:
        """Fit on the intent examples and persist the arrays."""
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        labels = sorted({m.get(INTENT) for m in examples})
        if len(labels) < 2:
            logger.warning("LogRegIntentClassifier: fewer than 2 intents, nothing to train.")
            return self._resource
        index = {name: i for i, name in enumerate(labels)}
        y = np.array([index[m.get(INTENT)] for m in examples])
        dense_x, sparse_x = self._features(examples)
        if self.component_config["standardize"]:
            mean, scale = dense_x.mean(axis=0), dense_x.std(axis=0) + 1e-6
        else:
            mean, scale = np.zeros(dense_x.shape[1], np.float32), np.ones(dense_x.shape[1], np.float32)
        self.model = {"sparse_dim": 0 if sparse_x is None else sparse_x.shape[1]}
        x = self._design(dense_x, sparse_x, mean, scale)
        temperature = self._temperature(x, y, len(labels))
        coef, intercept = self._fit(x, y, len(labels))
        self.model.update(
            labels=labels, mean=mean, scale=scale, coef=coef, intercept=intercept, temperature=temperature
        )
        self.model["oos"] = self._fit_oos(x, y, labels)
        per_intent: dict[str, set[str]] = {name: set() for name in labels}
        for m in examples:
            per_intent[m.get(INTENT)] |= alpha_words(m.get(TEXT))
        self.model["intent_vocabulary"] = {name: sorted(words) for name, words in per_intent.items()}
        logger.info(
            f"LogRegIntentClassifier: {len(labels)} intents, temperature {temperature:.3f}, "
            f"out-of-scope {self.model['oos']}"
        )
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Write numpy arrays + JSON metadata into the model storage."""
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez_compressed(
                model_dir / MODEL_FILE,
                mean=self.model["mean"],
                scale=self.model["scale"],
                coef=self.model["coef"],
                intercept=self.model["intercept"],
            )
            meta = {k: self.model.get(k) for k in ("labels", "temperature", "sparse_dim", "oos", "intent_vocabulary")}
            (model_dir / META_FILE).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LogRegIntentClassifier:
        """Load the arrays; an untrained classifier (e.g. < 2 intents) loads as one that predicts nothing."""
        try:
            with model_storage.read_from(resource) as model_dir:
                meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
                with np.load(model_dir / MODEL_FILE, allow_pickle=False) as arrays:
                    model = {**meta, **{k: arrays[k] for k in arrays.files}}
        except (ValueError, FileNotFoundError):
            logger.debug(f"Couldn't load {cls.__name__}: no trained model, it will predict nothing.")
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, model)

    # ---- prediction -------------------------------------------------------------------------------

    def logits(self, messages: list[Message]) -> np.ndarray:
        """Raw class scores, one row per message."""
        dense_x, sparse_x = self._features(messages)
        x = self._design(dense_x, sparse_x, self.model["mean"], self.model["scale"])
        return np.asarray(x @ self.model["coef"].T) + self.model["intercept"]

    def predict_proba(self, messages: list[Message]) -> np.ndarray:
        """Calibrated class probabilities, one row per message."""
        return softmax(self.logits(messages) / float(self.model["temperature"]))

    @property
    def oos_threshold(self) -> float | None:
        """The fitted novelty threshold (None: this model never falls back by itself)."""
        oos = (self.model or {}).get("oos")
        return float(oos["threshold"]) if oos and self.component_config["oos_detection"] else None

    def _vocabularies(self) -> tuple[frozenset[str], dict[str, frozenset[str]]] | None:
        """(all training words, words per intent), with their informal variants, built once."""
        if not self.model or not self.model.get("intent_vocabulary"):
            return None
        if "_vocab" not in self.model:
            per_intent = {k: frozenset(with_variants(v)) for k, v in self.model["intent_vocabulary"].items()}
            self.model["_vocab"] = (frozenset().union(*per_intent.values()), per_intent)
        return self.model["_vocab"]

    def _unsupported_by_words(self, text: Any, intent: str) -> bool:
        """True for a short text whose words the bot never saw (or, if tiny, never saw for this intent)."""
        vocabularies = self._vocabularies()
        if vocabularies is None or not isinstance(text, str):
            return False
        found = alpha_words(text)
        if not found:
            return False
        everything, per_intent = vocabularies
        if len(found) <= int(self.component_config["unknown_words_max_words"]) and not any(
            known(w, everything) for w in found
        ):
            return True
        tiny = len(found) <= int(self.component_config["tiny_message_max_words"])
        return tiny and not any(known(w, per_intent.get(intent, frozenset())) for w in found)

    def process(self, messages: list[Message]) -> list[Message]:
        """Set `intent` and `intent_ranking` (top `ranking_length`) on each message."""
        usable = [m for m in messages if self.model and m.features_present(TEXT)]
        logits = self.logits(usable) if usable else np.zeros((0, 0))
        probs = softmax(logits / float(self.model["temperature"])) if usable else logits
        novelty = novelty_score(logits) if usable else np.zeros(0)
        rows = dict(zip(map(id, usable), zip(probs, novelty, strict=True), strict=True))
        threshold = self.oos_threshold
        for message in messages:
            p, score = rows.get(id(message), (None, None))
            if p is None:
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
                continue
            order = np.argsort(-p)[: int(self.component_config["ranking_length"]) or len(p)]
            ranking = [
                {INTENT_NAME_KEY: self.model["labels"][i], PREDICTED_CONFIDENCE_KEY: float(p[i])} for i in order
            ]
            unknown = self._unsupported_by_words(message.get(TEXT), ranking[0][INTENT_NAME_KEY])
            if (threshold is not None and score < threshold) or unknown:
                # same shape as FallbackClassifier's output, so policies and `undo_fallback_prediction` work
                fallback = {
                    INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
                    PREDICTED_CONFIDENCE_KEY: 1.0 - ranking[0][PREDICTED_CONFIDENCE_KEY],
                }
                ranking = [fallback, *ranking]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            message.set(
                NOVELTY_KEY,
                {
                    "score": round(float(score), 4),
                    "threshold": None if threshold is None else round(threshold, 4),
                    "unknown_words": unknown,
                },
                add_to_output=True,
            )
        return messages
