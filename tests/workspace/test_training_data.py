"""The Rasa NLU writer over temporary copies of bot/data: comments and order kept, real Rasa validates the result,
concurrent writers (threads and processes) lose nothing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from services.settings import REPO_ROOT
from services.workspace.example_text import DEFAULT_ORDER_PATTERNS, BotVocabulary
from services.workspace.training_data import (
    TrainingDataError,
    add_examples,
    add_examples_to_text,
    data_lock,
    example_key,
    known_examples,
)

RASA_PYTHON = REPO_ROOT / ".venv" / "rasa" / "bin" / "python"


@pytest.fixture()
def inbox_data(tmp_path: Path) -> Path:
    """A copy of the bot's data folder plus domain.yml and config.yml beside it."""
    root = tmp_path / "bot"
    shutil.copytree(REPO_ROOT / "bot" / "data", root / "data")
    shutil.copy2(REPO_ROOT / "domain.yml", root / "domain.yml")
    shutil.copy2(REPO_ROOT / "config.yml", root / "config.yml")
    return root / "data"


def test_appends_at_the_end_of_the_intent_block_keeping_comments_and_order(inbox_data: Path) -> None:
    pt = inbox_data / "nlu" / "pt.yml"
    before = pt.read_text(encoding="utf-8")
    path, outcomes = add_examples(inbox_data, "pt", "warranty", ["meu relogio quebrou com 2 meses, tem garantia?"])
    assert path == pt and [o.status for o in outcomes] == ["written"]
    after = pt.read_text(encoding="utf-8").splitlines()
    old = before.splitlines()
    inserted = after.index("      - meu relogio quebrou com 2 meses, tem garantia?")
    assert after[:inserted] + after[inserted + 1:] == old  # every comment and line in place
    # It is the last example of the warranty block (next non-blank line starts another intent).
    rest = [line for line in after[inserted + 1:] if line.strip()]
    assert rest[0].lstrip().startswith("- intent:") or rest[0].lstrip().startswith("#")
    assert any(line.startswith("#") for line in after[:3])


def test_new_block_when_the_language_file_lacks_the_intent() -> None:
    source = "# head comment\nversion: \"3.1\"\nnlu:\n  - intent: greet\n    examples: |\n      - oi\n  # tail\n"
    out = add_examples_to_text(source, "warranty", ["tem garantia?"])
    data = yaml.safe_load(out)
    assert [i["intent"] for i in data["nlu"]] == ["greet", "warranty"]
    assert data["nlu"][1]["examples"] == "- tem garantia?\n"
    assert out.startswith("# head comment\n") and "  # tail\n" in out


def test_refuses_a_block_it_does_not_recognise() -> None:
    odd = "version: \"3.1\"\nnlu:\n  - intent: greet\n    examples:\n      - oi\n"
    with pytest.raises(TrainingDataError):
        add_examples_to_text(odd, "greet", ["ola"])


def test_duplicates_across_files_and_within_a_batch(inbox_data: Path) -> None:
    _, outcomes = add_examples(inbox_data, "en", "complain", ["Bom  DIA", "quero reclamar do atraso", "QUERO reclamar do atraso"])
    assert [(o.status, o.existing) for o in outcomes] == [("other_intent", "greet"), ("written", None),
                                                          ("same_intent", "complain")]
    assert known_examples(inbox_data)[example_key("quero reclamar do atraso")] == "complain"
    assert example_key("pedido [#2048](order_number) Não") == "pedido #2048 nao"


def test_order_number_regexes_follow_the_bot(inbox_data: Path) -> None:
    vocabulary = BotVocabulary.load(inbox_data.parent / "domain.yml", inbox_data)
    assert tuple(p.pattern for p in vocabulary.order_patterns) == DEFAULT_ORDER_PATTERNS
    assert {"order_number", "email", "cpf"} <= vocabulary.entities


def _validate(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([str(RASA_PYTHON), "-m", "rasa", "data", "validate", "--domain", "domain.yml",
                             "--data", "data", "--config", "config.yml"], cwd=root, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


def _warnings(output: str) -> set[str]:
    return {m.strip() for m in re.findall(r"UserWarning: (.*)", output)}


@pytest.mark.slow
def test_rasa_validates_the_written_data_with_no_new_warning(inbox_data: Path, tmp_path: Path) -> None:
    """Real Rasa 3.6 (`rasa data validate`) on the changed copy: exit 0 and exactly the untouched copy's warnings."""
    baseline = tmp_path / "baseline"
    shutil.copytree(inbox_data.parent, baseline)
    add_examples(inbox_data, "pt", "order_status", ["cade o pedido [10002000](order_number) q comprei"])
    add_examples(inbox_data, "pt", "out_of_scope", ["qual a cotacao do dolar hoje"])
    add_examples(inbox_data, "en", "warranty", ["is my [cliente@exemplo.com](email) account covered by warranty"])
    add_examples(inbox_data, "en", "request_human", ["can i talk to someone real: it's urgent # really"])
    changed, original = _validate(inbox_data.parent), _validate(baseline)
    out_changed, _ = changed.communicate(timeout=300)
    out_original, _ = original.communicate(timeout=300)
    assert changed.returncode == 0, out_changed[-3000:]
    assert original.returncode == 0, out_original[-3000:]
    assert _warnings(out_changed) == _warnings(out_original)


def test_threads_writing_at_once_lose_nothing(inbox_data: Path) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                with data_lock(inbox_data):
                    add_examples(inbox_data, "pt", "complain", [f"reclamacao da thread {n} numero {i}"])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    known = known_examples(inbox_data)
    assert sum(1 for k in known if k.startswith("reclamacao da thread")) == 40


WRITER = """
import sys
from pathlib import Path
from services.workspace.training_data import add_examples, data_lock
data, name = Path(sys.argv[1]), sys.argv[2]
for i in range(15):
    with data_lock(data):
        add_examples(data, "en", "thanks", [f"thanks from process {name} number {i}"])
"""


def test_processes_writing_at_once_lose_nothing(inbox_data: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(inbox_data), name], env=env, cwd=REPO_ROOT)
             for name in ("a", "b")]
    assert [p.wait(120) for p in procs] == [0, 0]
    known = known_examples(inbox_data)
    for name in ("a", "b"):
        assert all(f"thanks from process {name} number {i}" in known for i in range(15))
    yaml.safe_load((inbox_data / "nlu" / "en.yml").read_text(encoding="utf-8"))

