"""Make an out-of-scope (OOS) benchmark from an intent data set by holding out whole groups of intents.

  python -m bench.nlu.make_oos_split --src .cache/bench/hwu64 --out-dir .cache/bench/hwu64-oos \
      [--holdout alarm_,cooking_,news_,social_,takeaway_,weather_] [--oos-label oos] [--train-name train_10]

Intents whose name starts with one of the --holdout prefixes (HWU64: whole scenarios) are removed
from train.csv and relabelled `oos` in valid.csv and test.csv. A bot meets such requests in real life:
things it was never trained on. Choose the fallback threshold on valid.csv's threshold sweep, then
report test.csv once with that threshold. `--train-name train_10` takes the training rows from
train_10.csv (HWU64's 10-shot subset) instead of train.csv; the output is still called train.csv.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

DEFAULT_HOLDOUT = "alarm_,cooking_,news_,social_,takeaway_,weather_"


def split_file(src: Path, dst: Path, prefixes: tuple[str, ...], oos_label: str, drop: bool) -> tuple[int, int]:
    """Copy one CSV, dropping (train) or relabelling (valid/test) held-out intents; return (kept, oos)."""
    with src.open(encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    kept, n_oos = [], 0
    for row in rows:
        if row[-1].startswith(prefixes):
            n_oos += 1
            if drop:
                continue
            row = [*row[:-1], oos_label]
        kept.append(row)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with dst.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(kept)
    return len(kept), n_oos


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, required=True, help="folder with train.csv, valid.csv, test.csv")
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--holdout", default=DEFAULT_HOLDOUT, help="comma-separated label prefixes to hold out")
    parser.add_argument("--oos-label", default="oos")
    parser.add_argument("--train-name", default="train", help="training file under --src (without .csv)")
    args = parser.parse_args(argv)
    prefixes = tuple(p for p in args.holdout.split(",") if p)
    if not prefixes:
        print("error: --holdout is empty", file=sys.stderr)
        return 2
    for name in ("train", "valid", "test"):
        src = args.src / f"{args.train_name if name == 'train' else name}.csv"
        if not src.is_file():
            print(f"error: {src} missing", file=sys.stderr)
            return 2
        kept, n_oos = split_file(src, args.out_dir / f"{name}.csv", prefixes, args.oos_label, drop=name == "train")
        what = "removed" if name == "train" else f"relabelled '{args.oos_label}'"
        print(f"{name}: {kept} rows written, {n_oos} held-out rows {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
