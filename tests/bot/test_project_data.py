"""The Rasa project itself: data validates cleanly, held-out NLU quality per language, conversation tests."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from scripts.train_model import ensure_model

REPO_ROOT = Path(__file__).resolve().parents[2]
NLU_DIR = REPO_ROOT / "bot" / "data" / "nlu"
HELD_OUT_FRACTION = 0.2
MIN_MACRO_F1 = 0.90


def rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "RASA_TELEMETRY_ENABLED": "false",
           "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "rasa", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def said_by_actions(utterance: str) -> bool:
    """Whether a custom action names this response (``response="utter_x"`` or ``f"utter_answer_{intent}"``).

    Rasa's validator only knows stories and rules, so it warns about responses that actions say; those are
    used, as long as an action really names them.
    """
    source = "\n".join(p.read_text() for p in (REPO_ROOT / "bot" / "actions").glob("*.py"))
    if re.search(rf"[\"']{re.escape(utterance)}[\"']", source):
        return True
    prefixes = re.findall(r"f[\"'](utter_[a-z_]*)\{", source)
    return any(utterance.startswith(prefix) for prefix in prefixes)


def test_rasa_data_validate_has_no_warnings() -> None:
    result = rasa("data", "validate", "--domain", "domain.yml", "--data", "bot/data", "--config", "config.yml")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    warnings = [line for line in output.splitlines() if re.search(r"UserWarning|WARNING|\bwarn", line)]
    unused = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")
    warnings = [w for w in warnings if not ((m := unused.search(w)) and said_by_actions(m.group(1)))]
    assert not warnings, "\n".join(warnings)


def split_language_file(path: Path, fraction: float) -> tuple[list, list]:
    """Deterministic stratified split: every k-th example of each intent is held out."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    by_intent: dict[str, list] = defaultdict(list)
    for example in data.intent_examples:
        by_intent[example.get("intent")].append(example)
    train, held_out = [], []
    step = round(1 / fraction)
    for examples in by_intent.values():
        for i, example in enumerate(examples):
            (held_out if i % step == step // 2 else train).append(example)
    return train, held_out


@pytest.fixture(scope="module")
def held_out_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list]]:
    """Train the project's NLU pipeline without the held-out examples (cached by the split's fingerprint)."""
    from rasa.shared.nlu.training_data.training_data import TrainingData

    work = tmp_path_factory.mktemp("heldout")
    train_dir = work / "nlu"
    train_dir.mkdir()
    held_out: dict[str, list] = {}
    for lang in ("pt", "en"):
        train, test = split_language_file(NLU_DIR / f"{lang}.yml", HELD_OUT_FRACTION)
        (train_dir / f"{lang}.yml").write_text(TrainingData(training_examples=train).nlu_as_yaml())
        held_out[lang] = test
    for other in NLU_DIR.glob("*.yml"):
        if other.stem not in held_out:
            (train_dir / other.name).write_text(other.read_text())
    model = ensure_model(data=[train_dir], out_dir=REPO_ROOT / ".cache" / "models" / "heldout", nlu_only=True)
    return model, held_out


@pytest.mark.parametrize("lang", ["pt", "en"])
def test_held_out_macro_f1_per_language(held_out_model, lang: str) -> None:
    from rasa.core.agent import Agent
    from sklearn.metrics import classification_report, f1_score

    model, held_out = held_out_model
    agent = Agent.load(str(model))
    examples = held_out[lang]
    assert len(examples) >= 100, "too few held-out examples to judge"
    expected = [e.get("intent") for e in examples]

    async def predict_all() -> list[str]:
        return [(await agent.parse_message(e.get("text")))["intent"]["name"] for e in examples]

    predicted = asyncio.run(predict_all())
    macro_f1 = f1_score(expected, predicted, average="macro", zero_division=0)
    report = classification_report(expected, predicted, zero_division=0)
    assert macro_f1 >= MIN_MACRO_F1, f"{lang} macro-F1 {macro_f1:.3f} < {MIN_MACRO_F1}\n{report}"


def test_conversation_stories_pass(tmp_path: Path) -> None:
    """Rasa's own conversation tests for every main flow, in both languages, against the trained model."""
    model = ensure_model()
    stories = REPO_ROOT / "tests" / "bot" / "stories"
    result = rasa("test", "core", "--model", str(model), "--stories", str(stories), "--out", str(tmp_path),
                  "--fail-on-prediction-errors")
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:] + "\n" + details
    assert "None of the test stories failed" in details or not details.strip(), details
