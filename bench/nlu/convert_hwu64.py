"""Convert HWU64 (`<split>/seq.in` + `<split>/label`, one example a line) into benchmark CSVs.

  python -m bench.nlu.convert_hwu64 --src /work/shared/datasets/hwu64 --out-dir .cache/bench/hwu64

Writes train.csv, valid.csv, test.csv, train_5.csv and train_10.csv (5-/10-shot subsets; header
`text,intent`) for the splits that exist.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

SPLITS = ("train", "valid", "test", "train_5", "train_10")


def convert_split(split_dir: Path, out_csv: Path) -> int:
    """Write one split; the two files must have the same number of lines."""
    texts = split_dir.joinpath("seq.in").read_text(encoding="utf-8").splitlines()
    labels = split_dir.joinpath("label").read_text(encoding="utf-8").splitlines()
    if len(texts) != len(labels):
        raise ValueError(f"{split_dir}: {len(texts)} texts but {len(labels)} labels")
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with out_csv.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "intent"])
        rows = [(t.strip(), lab.strip()) for t, lab in zip(texts, labels, strict=True) if t.strip()]
        writer.writerows(rows)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, required=True, help="HWU64 folder with train/, valid/, test/")
    parser.add_argument("--out-dir", type=Path, required=True, help="folder for the CSV files")
    args = parser.parse_args(argv)
    found = [s for s in SPLITS if (args.src / s / "seq.in").is_file()]
    if not found:
        print(f"error: no <split>/seq.in under {args.src}", file=sys.stderr)
        return 2
    for split in found:
        n = convert_split(args.src / split, args.out_dir / f"{split}.csv")
        print(f"{split}: {n} rows -> {args.out_dir / f'{split}.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
