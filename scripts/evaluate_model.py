"""Compare two trained Rasa models on the same held-out messages and conversation test stories.

Why a script in the Rasa environment: the services app (Python 3.11) cannot import Rasa; the lead's retrain job
(services/workspace/retrain.py) runs this as a subprocess, reads its progress lines from stderr and its verdict
input from the JSON file. Each model is loaded once and judged in-process (no ``rasa test`` subprocess per
model), which keeps a comparison well under two minutes on two cores.

    python -m scripts.evaluate_model --current A.tar.gz --candidate B.tar.gz \
        --held-out bot/evaluation --stories tests/bot/stories --out result.json

Progress lines on stderr: ``PROGRESS <percent> <what>``; anything else there is Rasa's own log.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")


def progress(percent: int, what: str) -> None:
    print(f"PROGRESS {percent} {what}", file=sys.stderr, flush=True)


def quiet_rasa() -> None:
    """Rasa logs every prediction at debug level; the job's live log should show progress, not that."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def load_held_out(folder: Path) -> list[dict[str, str]]:
    """Every labelled message of the held-out folder, with its language (the file's name: pt.yml, en.yml)."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples = []
    for path in sorted(folder.glob("*.yml")):
        data = load_data(str(path))
        examples += [{"text": e.get("text"), "expected": e.get("intent"), "language": path.stem}
                     for e in data.intent_examples]
    if not examples:
        raise SystemExit(f"no labelled messages in {folder}")
    return examples


async def predict(agent: Any, examples: list[dict[str, str]]) -> list[str]:
    return [(await agent.parse_message(e["text"]))["intent"]["name"] or "" for e in examples]


def nlu_scores(expected: list[str], predicted: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the held-out intents, and F1 per intent (the intents of the held-out set)."""
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(expected))
    per_intent = f1_score(expected, predicted, labels=labels, average=None, zero_division=0)
    return {"accuracy": round(float(accuracy_score(expected, predicted)), 4),
            "macro_f1": round(float(f1_score(expected, predicted, labels=labels, average="macro",
                                             zero_division=0)), 4),
            "per_intent_f1": {label: round(float(f1), 4) for label, f1 in zip(labels, per_intent, strict=True)}}


async def story_results(agent: Any, stories: Path) -> dict[str, Any]:
    """Run Rasa's conversation tests (what ``rasa test core`` does) against an already loaded agent."""
    from rasa.core.test import _collect_story_predictions, _create_data_generator

    generator = _create_data_generator(str(stories), agent, None, False)
    trackers = generator.generate_story_trackers()
    evaluation, _, _ = await _collect_story_predictions(trackers, agent, False, use_e2e=False)
    failed = sorted({t.sender_id for t in evaluation.failed_stories})
    return {"total": len(trackers), "passed": len(trackers) - len(failed), "failed": failed}


async def judge(label: str, model: Path, examples: list[dict[str, str]], stories: Path | None,
                start: int, span: int) -> tuple[dict[str, Any], list[str]]:
    from rasa.core.agent import Agent

    progress(start, f"loading the {label} model")
    agent = Agent.load(str(model))
    progress(start + span // 4, f"classifying {len(examples)} held-out messages with the {label} model")
    predicted = await predict(agent, examples)
    result: dict[str, Any] = {"model": str(model), **nlu_scores([e["expected"] for e in examples], predicted)}
    if stories is not None:
        progress(start + span // 2, f"running the conversation test stories against the {label} model")
        result["stories"] = await story_results(agent, stories)
    return result, predicted


def cache_key(model: Path, examples: list[dict[str, str]], stories: Path | None) -> str:
    """Same model file, same held-out messages, same stories → same result (the model is not re-judged)."""
    digest = hashlib.sha256()
    stat = model.stat()
    digest.update(f"{model.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    digest.update(json.dumps(examples, sort_keys=True).encode())
    if stories is not None:
        for path in sorted(stories.rglob("*.yml")) if stories.is_dir() else [stories]:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


async def judge_cached(label: str, model: Path, examples: list[dict[str, str]], stories: Path | None,
                       start: int, span: int, cache: Path | None) -> tuple[dict[str, Any], list[str]]:
    """Why a cache: the current model was judged when it was the candidate; judging it again on every retrain
    doubled the evaluation stage for nothing."""
    entry = cache / f"{cache_key(model, examples, stories)}.json" if cache is not None else None
    if entry is not None and entry.is_file():
        progress(start + span, f"the {label} model was already judged on these messages (cached)")
        saved = json.loads(entry.read_text())
        return saved["result"], saved["predicted"]
    result, predicted = await judge(label, model, examples, stories, start, span)
    if entry is not None:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".{os.getpid()}.tmp")  # atomic: a concurrent reader sees all or nothing
        tmp.write_text(json.dumps({"result": result, "predicted": predicted}, ensure_ascii=False))
        tmp.replace(entry)
    return result, predicted


async def compare(current: Path | None, candidate: Path, held_out: Path, stories: Path | None,
                  cache: Path | None = None) -> dict[str, Any]:
    started = time.monotonic()
    examples = load_held_out(held_out)
    out: dict[str, Any] = {"held_out": {"count": len(examples),
                                        "languages": sorted({e["language"] for e in examples})}}
    cand, after = await judge_cached("candidate", candidate, examples, stories, 5, 45, cache)
    out["candidate"] = cand
    if current is None:
        out["current"], before = None, after
    elif current.resolve() == candidate.resolve():
        out["current"], before = cand, after  # unchanged data: the cache gave back the same model
    else:
        out["current"], before = await judge_cached("current", current, examples, stories, 50, 45, cache)
    out["changed"] = [{"text": e["text"], "language": e["language"], "expected": e["expected"], "before": b,
                       "after": a} for e, b, a in zip(examples, before, after, strict=True) if a != b]
    out["seconds"] = round(time.monotonic() - started, 1)
    progress(100, "evaluation finished")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--current", type=Path, help="the model customers talk to now (omit: none yet)")
    parser.add_argument("--candidate", type=Path, required=True)
    parser.add_argument("--held-out", type=Path, required=True, help="folder of Rasa NLU YAML files")
    parser.add_argument("--stories", type=Path, help="folder of conversation test stories (omit: skip)")
    parser.add_argument("--out", type=Path, required=True, help="where the JSON result is written")
    parser.add_argument("--cache", type=Path, help="folder of earlier results per model (omit: judge both)")
    args = parser.parse_args()
    for path in (args.current, args.candidate, args.held_out, args.stories):
        if path is not None and not path.exists():
            print(f"error: {path} does not exist", file=sys.stderr)
            return 2
    quiet_rasa()
    result = asyncio.run(compare(args.current, args.candidate, args.held_out, args.stories, args.cache))
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
