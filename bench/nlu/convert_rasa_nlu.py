"""Split a Rasa NLU training set (YAML files) into benchmark CSVs, stratified by intent.

  python -m bench.nlu.convert_rasa_nlu --src bot/data/nlu --out-dir .cache/bench/bot [--test-fraction 0.25]

Used to measure the pipeline on the bot's own (bilingual, informal) data: train.csv / test.csv with
header `text,intent`; entity annotations are dropped (the text keeps the entity value).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections import defaultdict
from pathlib import Path


def load_examples(src: Path) -> list[tuple[str, str]]:
    """(text, intent) for every intent example in the YAML file(s) under src."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(src))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples if m.get("text") and m.get("intent")]


def split(
    rows: list[tuple[str, str]], test_fraction: float, seed: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Per intent, hold out round(test_fraction * n) examples (at least 1 when an intent has >= 2)."""
    by_intent: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        by_intent[row[1]].append(row)
    rng = random.Random(seed)
    train, test = [], []
    for intent in sorted(by_intent):
        items = by_intent[intent][:]
        rng.shuffle(items)
        n_test = max(1, round(test_fraction * len(items))) if len(items) >= 2 else 0
        test += items[:n_test]
        train += items[n_test:]
    return train, test


def write(path: Path, rows: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "intent"])
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, required=True, help="a Rasa NLU YAML file or a folder of them")
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--test-fraction", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 0 < args.test_fraction < 1:
        print("error: --test-fraction must be between 0 and 1", file=sys.stderr)
        return 2
    rows = load_examples(args.src)
    if not rows:
        print(f"error: no intent examples under {args.src}", file=sys.stderr)
        return 2
    train, test = split(rows, args.test_fraction, args.seed)
    write(args.out_dir / "train.csv", train)
    write(args.out_dir / "test.csv", test)
    print(f"{len(train)} train / {len(test)} test rows, {len({r[1] for r in rows})} intents -> {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
