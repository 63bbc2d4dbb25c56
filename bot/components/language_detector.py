"""Per-message pt/en language detection as a Rasa graph component.

The conversation's language lives in the `language` slot, filled from the `language` entity. A wrong
switch is worse than no switch (the customer suddenly gets answers in the other language), so the
component only emits the entity when it is confident and stays silent on short, ambiguous messages
("ok", an order number, an emoji, a product name): the slot then keeps its previous value.

Detection = a small lexicon of informal markers that statistical detectors misread on very short texts
("vc", "blz", "thx"...) + lingua restricted to Portuguese and English (offline, models preloaded once
per process) with a confidence threshold that grows as the text gets shorter.

Meaningless input never switches the language: lingua has only two choices and calls keyboard mashing
English ("zxqv wplm" 0.96), so (1) texts whose words do not look like words (no vowel, long consonant
runs, one letter repeated) are rejected before lingua, and (2) a short message that the intent classifier
did not understand (`nlu_fallback`, set before this component runs) only switches on lexicon evidence:
"blorf snark quux" looks like English letters but says nothing about the customer's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from textnorm import fold

# Informal markers lingua gets wrong (or is unsure about) on one- or two-word messages.
PT_MARKERS = frozenset(
    [
        "vc", "vcs", "voce", "pq", "blz", "obg", "obgd", "obrigado", "obrigada", "vlw", "oi", "ola", "nao",
        "sim", "pfv", "pf", "tb", "tbm", "td", "ta", "eh", "cade", "meu", "minha", "quero", "preciso",
        "ajuda", "pedido", "entrega",
    ]
)
EN_MARKERS = frozenset(
    [
        "hi", "hey", "thx", "thanks", "thank", "pls", "please", "yes", "u", "hello", "my", "order", "want",
        "need", "help",
    ]
)
# Words that say nothing about the language: product and brand names, acknowledgements, channels.
NEUTRAL = frozenset(
    [
        "ok", "okay", "okk", "lumo", "watch", "buds", "cam", "plug", "speaker", "app", "iphone", "samsung",
        "galaxy", "xiaomi", "motorola", "notebook", "tablet", "smart", "tv", "pix", "cpf", "cnpj", "email",
        "e-mail", "whatsapp", "wifi", "wi-fi", "bluetooth", "haha", "kkk", "kkkk", "rs", "lol", "hmm",
        "uhum",
    ]
)
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?")
_PT_ACCENTS = re.compile(r"[ãõçáàâéêíóôú]")
_VOWEL = re.compile(r"[aeiouy]")
_CONSONANT_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]{6,}")
_REPEATED_CONSONANT = re.compile(r"([bcdfghjlmnpqrstvwxz])\1\1")


def looks_like_word(word: str) -> bool:
    """False for keyboard mashing: no vowel ('zxqv'), 6+ consonants in a row, a consonant tripled ('jjjj').

    Deliberately lenient (real words must never fail it); one-letter words are left to the lexicon.
    """
    if len(word) <= 1:
        return True
    return bool(_VOWEL.search(word)) and not _CONSONANT_RUN.search(word) and not _REPEATED_CONSONANT.search(word)


@dataclass(frozen=True)
class Detection:
    """The outcome for one text: a language, or None when the detector abstains."""

    language: str | None
    confidence: float
    reason: str


class ShortTextLanguageRule:
    """The pure decision rule (no Rasa types) so it can be tuned and tested on plain strings."""

    _detector: Any = None  # lingua detector shared by every instance in the process

    def __init__(
        self,
        min_letters: int = 3,
        threshold_one_word: float = 0.7,
        threshold_two_words: float = 0.7,
        threshold_longer: float = 0.65,
    ) -> None:
        self.min_letters = min_letters
        self.threshold_one_word = threshold_one_word
        self.threshold_two_words = threshold_two_words
        self.threshold_longer = threshold_longer

    @classmethod
    def lingua(cls) -> Any:
        """The preloaded pt/en lingua detector (built once: building costs ~1 s and ~100 MB)."""
        if cls._detector is None:
            from lingua import Language, LanguageDetectorBuilder

            cls._detector = (
                LanguageDetectorBuilder.from_languages(Language.PORTUGUESE, Language.ENGLISH)
                .with_preloaded_language_models()
                .build()
            )
        return cls._detector

    def threshold_for(self, n_words: int) -> float:
        """Shorter texts need a more certain lingua verdict."""
        if n_words <= 1:
            return self.threshold_one_word
        if n_words == 2:
            return self.threshold_two_words
        return self.threshold_longer

    def detect(self, text: str) -> Detection:
        """Return the language of `text`, or an abstention (language None)."""
        if not text or not text.strip():
            return Detection(None, 0.0, "empty")
        text = text[:2000]
        has_accents = bool(_PT_ACCENTS.search(text.lower()))
        words = [w for w in _WORD.findall(fold(text)) if w not in NEUTRAL]  # 'não' ~ 'nao' in the lexicon
        if not words:
            return Detection(None, 0.0, "no informative words")
        n_pt = sum(w in PT_MARKERS for w in words) + (1 if has_accents else 0)
        n_en = sum(w in EN_MARKERS for w in words)
        if n_pt != n_en:
            lang = "pt" if n_pt > n_en else "en"
            margin = abs(n_pt - n_en) / max(1, n_pt + n_en)
            return Detection(lang, round(0.8 + 0.2 * margin, 3), "lexicon")
        cleaned = " ".join(words)
        if sum(len(w) for w in words) < self.min_letters:
            return Detection(None, 0.0, "too short")
        if 2 * sum(looks_like_word(w) for w in words) <= len(words):
            return Detection(None, 0.0, "not words")
        values = self.lingua().compute_language_confidence_values(cleaned)
        best = values[0]
        lang = best.language.iso_code_639_1.name.lower()
        if best.value >= self.threshold_for(len(words)):
            return Detection(lang, round(float(best.value), 3), "lingua")
        return Detection(None, round(float(best.value), 3), "lingua unsure")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    """Adds a `language` entity (pt/en) to a message when the language is clear."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Thresholds tuned on bench/nlu/data/language_short.csv (see docs/benchmarks.md)."""
        return {
            "min_letters": 3,
            "threshold_one_word": 0.7,
            "threshold_two_words": 0.7,
            "threshold_longer": 0.65,
            "entity_name": "language",
            # messages of at most this many words that got `nlu_fallback` switch only on lexicon evidence
            "fallback_max_words": 3,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """lingua-language-detector provides the offline statistical models."""
        return ["lingua"]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        self._config = config
        self._name = name
        self.rule = ShortTextLanguageRule(
            min_letters=config["min_letters"],
            threshold_one_word=config["threshold_one_word"],
            threshold_two_words=config["threshold_two_words"],
            threshold_longer=config["threshold_longer"],
        )
        self.rule.lingua()  # preload at model load, not on the first customer message

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        """Nothing to train: build the detector from its config."""
        return cls(config, execution_context.node_name)

    @property
    def name(self) -> str:
        """Name written in the entity's `extractor` field."""
        return "LanguageDetector"

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples keep their annotated entities: nothing to add."""
        return training_data

    def _not_understood_and_short(self, message: Message, text: str, found: Detection) -> bool:
        """A short message the classifier fell back on says too little to change the conversation's language."""
        intent = message.get(INTENT) or {}
        if intent.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME or found.reason == "lexicon":
            return False
        return len(_WORD.findall(fold(text))) <= int(self._config["fallback_max_words"])

    def process(self, messages: list[Message]) -> list[Message]:
        """Append the language entity to each message whose language is clear."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            found = self.rule.detect(text)
            if found.language is None or self._not_understood_and_short(message, text, found):
                continue
            entity = {
                ENTITY_ATTRIBUTE_TYPE: self._config["entity_name"],
                ENTITY_ATTRIBUTE_VALUE: found.language,
                ENTITY_ATTRIBUTE_START: 0,
                ENTITY_ATTRIBUTE_END: 0,
                EXTRACTOR: self.name,
                ENTITY_ATTRIBUTE_CONFIDENCE: found.confidence,
            }
            message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
        return messages
