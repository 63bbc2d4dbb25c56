"""The Rasa NLU files the inbox writes to: read the examples, append new ones without losing a comment.

Why text-level insertion and not a YAML round-trip: the data files are hand-written (comments explaining each
intent's boundary, a chosen order) and PyYAML would drop every comment; ruamel is not installed in the services
environment. An example is one line (``      - text``) at the end of its intent's ``examples: |`` block, so
inserting that line is all a change needs; the result is parsed again before it replaces the file, and a file
whose shape we do not recognise is refused rather than guessed at.

Why one lock per data folder around read-check-write: two leads labelling at once must not lose an update,
and "this text is already an example of intent X" must be decided on the file as it is when we write, not as
it was when the page loaded. The lock is an OS file lock (``fcntl``), so it holds across worker processes too;
the file itself is replaced atomically (temp file + rename), so Rasa or git never read half a file.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from textnorm import normalise

# Rasa's entity annotation: [text](entity), [text]{"entity": ...} or [text]{...}; the text is what the user said.
ANNOTATION_RE = re.compile(r"\[([^\]\n]+)\](?:\([^)\n]+\)|\{[^}\n]*\})")
INTENT_LINE_RE = re.compile(r"^(?P<indent>\s*)-\s+intent:\s*['\"]?(?P<name>[^'\"#\s]+)['\"]?\s*(?:#.*)?$")
EXAMPLES_KEY_RE = re.compile(r"^(?P<indent>\s*)examples:\s*\|[-+0-9]*\s*(?:#.*)?$")
LANGUAGE_FILES = {"pt": "pt.yml", "en": "en.yml"}
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


class TrainingDataError(RuntimeError):
    """A data file we cannot change safely (unknown shape, or the result would not parse)."""


def plain_text(example: str) -> str:
    """The words of an example without Rasa's entity markup: "[2048](order_number) x" -> "2048 x"."""
    return ANNOTATION_RE.sub(lambda m: m.group(1), example)


def example_key(text: str) -> str:
    """The form examples are compared in: markup removed, case and accents folded, whitespace collapsed."""
    return normalise(plain_text(text))


def nlu_dir(bot_data: Path) -> Path:
    return bot_data / "nlu"


def language_file(bot_data: Path, language: str) -> Path:
    """``bot/data/nlu/pt.yml`` for Portuguese, ``en.yml`` for English (other languages: Portuguese, the default)."""
    return nlu_dir(bot_data) / LANGUAGE_FILES.get(language, LANGUAGE_FILES["pt"])


def _examples_of(path: Path) -> Iterator[tuple[str, str]]:
    """(intent, example) of one file, as Rasa reads it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for item in data.get("nlu") or []:
        if isinstance(item, dict) and "intent" in item and isinstance(item.get("examples"), str):
            for line in item["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    yield str(item["intent"]), line[2:].strip()


def examples_in(folder: Path) -> dict[str, str]:
    """Every example of every Rasa NLU file in ``folder``: compared form -> intent (the first one, as Rasa sees it)."""
    known: dict[str, str] = {}
    for path in sorted(folder.glob("*.yml")) if folder.is_dir() else []:
        for intent, example in _examples_of(path):
            known.setdefault(example_key(example), intent)
    return known


def known_examples(bot_data: Path) -> dict[str, str]:
    """Every training example of the bot (``bot/data/nlu/*.yml``)."""
    return examples_in(nlu_dir(bot_data))


@contextmanager
def data_lock(bot_data: Path) -> Iterator[None]:
    """Exclusive across threads and processes of this machine for one data folder.

    The lock file lives in the temp directory (named by a hash of the folder), never inside bot/data, so it
    cannot end up in a commit of the lead's curation round.
    """
    key = hashlib.sha1(str(bot_data.resolve()).encode()).hexdigest()[:16]
    with _THREAD_LOCKS_GUARD:
        thread_lock = _THREAD_LOCKS.setdefault(key, threading.Lock())
    lock_path = Path(tempfile.gettempdir()) / f"lumo-nlu-{key}.lock"
    with thread_lock, open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _insert_into_block(lines: list[str], intent: str, new_lines: list[str]) -> bool:
    """Append ``new_lines`` (example texts) at the end of the intent's ``examples: |`` block; False if absent."""
    for i, line in enumerate(lines):
        match = INTENT_LINE_RE.match(line)
        if not match or match.group("name") != intent:
            continue
        item_indent = len(match.group("indent"))
        j = i + 1
        while j < len(lines):  # the item's keys: until a line at or left of the item's dash
            if _is_content(lines[j]) and _indent(lines[j]) <= item_indent:
                break
            key = EXAMPLES_KEY_RE.match(lines[j])
            if key:
                key_indent = len(key.group("indent"))
                last = j
                example_indent = None
                k = j + 1
                while k < len(lines):
                    if lines[k].strip() and _indent(lines[k]) <= key_indent:
                        break
                    if lines[k].strip():
                        last = k
                        if example_indent is None and lines[k].lstrip().startswith("- "):
                            example_indent = _indent(lines[k])
                    k += 1
                pad = " " * (example_indent if example_indent is not None else key_indent + 2)
                lines[last + 1:last + 1] = [f"{pad}- {text}\n" for text in new_lines]
                if not lines[last].endswith("\n"):
                    lines[last] += "\n"
                return True
            j += 1
        raise TrainingDataError(f"intent {intent!r} has no 'examples: |' block we can append to")
    return False


def _append_new_block(lines: list[str], intent: str, new_lines: list[str]) -> None:
    """The intent has no block in this file yet: add one at the end of the top-level ``nlu:`` list."""
    start = next((i for i, line in enumerate(lines) if re.match(r"^nlu:\s*(#.*)?$", line)), None)
    if start is None:
        raise TrainingDataError("the file has no top-level 'nlu:' list")
    end = start + 1
    last = start
    item_indent = None
    while end < len(lines):
        line = lines[end]
        if _is_content(line) and _indent(line) == 0:
            break
        if _is_content(line):
            last = end
            if item_indent is None and line.lstrip().startswith("- "):
                item_indent = _indent(line)
        end += 1
    pad = " " * (item_indent if item_indent is not None else 2)
    if lines and not lines[last].endswith("\n"):
        lines[last] += "\n"
    block = ["\n", f"{pad}- intent: {intent}\n", f"{pad}  examples: |\n",
             *[f"{pad}    - {text}\n" for text in new_lines]]
    lines[last + 1:last + 1] = block


def add_examples_to_text(source: str, intent: str, examples: list[str]) -> str:
    """The file's text with ``examples`` appended to ``intent`` (checked: it parses and holds them)."""
    lines = source.splitlines(keepends=True)
    if not _insert_into_block(lines, intent, examples):
        _append_new_block(lines, intent, examples)
    result = "".join(lines)
    try:
        data = yaml.safe_load(result) or {}
    except yaml.YAMLError as error:
        raise TrainingDataError(f"the change would not parse as YAML: {error}") from error
    block = next((item.get("examples") for item in data.get("nlu") or []
                  if isinstance(item, dict) and item.get("intent") == intent), None)
    got = {line.strip()[2:].strip() for line in (block or "").splitlines() if line.strip().startswith("- ")}
    missing = [e for e in examples if e not in got]
    if missing:
        raise TrainingDataError(f"the change did not land in intent {intent!r} as expected: {missing[0]!r}")
    return result


def write_atomic(path: Path, text: str) -> None:
    """Replace the file in one step (temp file in the same folder, fsync, rename), keeping its mode."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Outcome:
    """What happened to one example: ``written``, ``same_intent`` (already there: nothing to do),
    ``other_intent`` (refused: ``existing`` names the intent that already has it) or ``held_out`` (refused: it
    is one of the held-out messages models are evaluated on, ``existing`` is its intent there)."""

    example: str
    status: str
    existing: str | None = None


def add_examples(bot_data: Path, language: str, intent: str, examples: list[str],
                 held_out: dict[str, str] | None = None) -> tuple[Path, list[Outcome]]:
    """Append the examples that are new to ``intent`` in the language's file. Call inside :func:`data_lock`.

    Duplicates are checked against every NLU file (Rasa refuses one text in two intents whatever the file) and
    within the batch itself. ``held_out`` (compared form -> intent) are texts that must never be trained on:
    a model evaluated on messages it learnt would hide exactly the regressions the evaluation is for.
    """
    path = language_file(bot_data, language)
    if not path.is_file():
        raise TrainingDataError(f"{path.name} does not exist in {path.parent}")
    known = known_examples(bot_data)
    outcomes: list[Outcome] = []
    new: list[str] = []
    for example in examples:
        key = example_key(example)
        existing = known.get(key)
        if held_out and key in held_out:
            outcomes.append(Outcome(example, "held_out", held_out[key]))
        elif existing is None:
            known[key] = intent
            new.append(example)
            outcomes.append(Outcome(example, "written"))
        elif existing == intent:
            outcomes.append(Outcome(example, "same_intent", existing))
        else:
            outcomes.append(Outcome(example, "other_intent", existing))
    if new:
        write_atomic(path, add_examples_to_text(path.read_text(encoding="utf-8"), intent, new))
    return path, outcomes
