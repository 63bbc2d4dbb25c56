"""The held-out messages (bot/evaluation) judge every candidate model: they must stay out of the training data.

Why: if a held-out message were also a training example, both models would "know" it and the comparison would
overstate the candidate; and an intent without held-out messages could get worse unnoticed.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from services.settings import REPO_ROOT

HELD_OUT = REPO_ROOT / "bot" / "evaluation"
NLU = REPO_ROOT / "bot" / "data" / "nlu"


def normalise(text: str) -> str:
    """Entity markup removed, lower case, accents folded, punctuation dropped: "Olá, tudo bem?" == "ola tudo bem"."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", text))


def examples(path: Path) -> list[tuple[str, str]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for block in raw.get("nlu") or []:
        if "intent" in block:
            out += [(block["intent"], line.strip()[2:]) for line in block["examples"].splitlines()
                    if line.strip().startswith("- ")]
    return out


def test_no_held_out_message_is_a_training_example() -> None:
    trained = {normalise(text) for path in NLU.glob("*.yml") for _, text in examples(path)}
    leaked = [(path.name, intent, text) for path in HELD_OUT.glob("*.yml") for intent, text in examples(path)
              if normalise(text) in trained]
    assert not leaked, leaked


def test_normalise_catches_accent_and_punctuation_copies() -> None:
    """The check above is only as good as this: a copy with other accents or punctuation is still a copy."""
    assert normalise("Olá, tudo bem?") == normalise("ola tudo bem")
    assert normalise("pedido [#20481234](order_number)") == normalise("pedido #20481234")
    assert normalise("ola tudo bem") != normalise("ola tudo bom")


@pytest.mark.parametrize("lang", ["pt", "en"])
def test_every_trained_intent_has_held_out_messages(lang: str) -> None:
    trained = {intent for intent, _ in examples(NLU / f"{lang}.yml")}
    held: dict[str, set[str]] = {}
    for intent, text in examples(HELD_OUT / f"{lang}.yml"):
        held.setdefault(intent, set()).add(normalise(text))
    missing = sorted(i for i in trained if len(held.get(i, ())) < 5)
    assert not missing, f"intents with fewer than 5 distinct held-out messages in {lang}: {missing}"
    assert set(held) <= trained, f"held-out intents the bot is not trained on: {sorted(set(held) - trained)}"
