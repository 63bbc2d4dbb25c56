"""Read benchmark CSVs (`text,<label>`; the label is the last column) and write Rasa NLU YAML.

Benchmark files come from outside the team, so bad input must fail with a clear message instead of
a Rasa stack trace: missing file, empty file, no rows, blank labels, binary junk.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

MAX_TEXT_CHARS = 2000
_INTENT_OK = re.compile(r"[^A-Za-z0-9_\-]+")


class BenchDataError(ValueError):
    """The benchmark input cannot be used (the message says why)."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str


def intent_name(label: str) -> str:
    """Rasa intent names must not contain spaces or '/' ('/' marks retrieval intents)."""
    return _INTENT_OK.sub("_", label.strip()).strip("_") or "unnamed"


def read_csv(path: Path) -> list[Example]:
    """Rows of a `text,<label>` CSV with a header; the label is the last column."""
    if not path.is_file():
        raise BenchDataError(f"{path}: no such file")
    raw = path.read_bytes()
    if b"\x00" in raw[:65536]:
        raise BenchDataError(f"{path}: looks binary, expected a UTF-8 CSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BenchDataError(f"{path}: not UTF-8 ({exc})") from exc
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header or len(header) < 2 or header[0].strip().lower() != "text":
        raise BenchDataError(f"{path}: expected a header 'text,<label column>', got {header!r}")
    examples = []
    for line_no, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[-1].strip():
            raise BenchDataError(f"{path}:{line_no}: need a non-empty text and label, got {row!r}")
        examples.append(Example(" ".join(row[0].split())[:MAX_TEXT_CHARS], intent_name(row[-1])))
    if not examples:
        raise BenchDataError(f"{path}: no data rows")
    return examples


def write_rasa_nlu(examples: list[Example], path: Path) -> None:
    """Write the examples as Rasa 3 NLU YAML (one `intent:` block per label)."""
    messages = [Message.build(text=e.text, intent=e.label) for e in examples]
    RasaYAMLWriter().dump(path, TrainingData(training_examples=messages))
