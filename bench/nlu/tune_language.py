"""Tune and report the LanguageDetector rule on short informal messages.

`python -m bench.nlu.tune_language [--data bench/nlu/data/language_short.csv] [--grid]`

Rows are labelled `pt`, `en` or `none` (nothing in the text tells the language: the detector should
abstain). A wrong language switches the customer's conversation, so the grid search scores a wrong
verdict three times as bad as an abstention.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
from pathlib import Path

from bot.components.language_detector import ShortTextLanguageRule

DEFAULT_DATA = Path(__file__).parent / "data" / "language_short.csv"


def evaluate(rule: ShortTextLanguageRule, rows: list[tuple[str, str]]) -> dict[str, float]:
    """Accuracy on decided pt/en rows, abstention rates, and wrong-language rate."""
    decided = correct = abstain_lang = n_lang = abstain_none = n_none = 0
    errors: list[str] = []
    for text, gold in rows:
        got = rule.detect(text).language
        if gold == "none":
            n_none += 1
            abstain_none += got is None
            continue
        n_lang += 1
        if got is None:
            abstain_lang += 1
            continue
        decided += 1
        correct += got == gold
        if got != gold:
            errors.append(f"{text!r}: {got} (gold {gold})")
    return {
        "n_pt_en": n_lang,
        "n_ambiguous": n_none,
        "accuracy_when_decided": correct / max(1, decided),
        "accuracy_all_pt_en": correct / max(1, n_lang),
        "wrong_rate": (decided - correct) / max(1, n_lang),
        "abstention_rate_pt_en": abstain_lang / max(1, n_lang),
        "abstention_rate_ambiguous": abstain_none / max(1, n_none),
        "errors": errors,
    }


def score(result: dict[str, float]) -> float:
    """Higher is better: right answers, minus wrong ones thrice, plus silence on ambiguous rows."""
    n = result["n_pt_en"]
    right = result["accuracy_all_pt_en"] * n
    wrong = result["wrong_rate"] * n
    return right - 3 * wrong + result["abstention_rate_ambiguous"] * result["n_ambiguous"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CSV text,language (pt|en|none)")
    parser.add_argument("--grid", action="store_true", help="grid-search the thresholds")
    args = parser.parse_args()
    with args.data.open(encoding="utf-8") as f:
        rows = [(r["text"], r["language"]) for r in csv.DictReader(f)]
    if args.grid:
        best = None
        for one, two, longer in itertools.product(
            [0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95], [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9], [0.55, 0.6, 0.65, 0.7, 0.75, 0.8]
        ):
            result = evaluate(ShortTextLanguageRule(3, one, two, longer), rows)
            key = (score(result), one, two, longer)
            if best is None or key[0] > best[0][0]:
                best = (key, result)
        (s, one, two, longer), result = best
        print(f"best thresholds one_word={one} two_words={two} longer={longer} score={s:.1f}")
    else:
        result = evaluate(ShortTextLanguageRule(), rows)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
