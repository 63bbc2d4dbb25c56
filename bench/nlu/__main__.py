"""NLU benchmark: train a Rasa NLU pipeline on a CSV, evaluate it on another.

  python -m bench.nlu --train T.csv --test S.csv --out O.json [--oos-label L] [--baseline]

CSV files have a header `text,<label column>`; the label is the last column. Without --baseline the
project's pipeline (the `language:`/`pipeline:` part of config.yml) is trained; with --baseline Rasa's
default pipeline for a new project (DIETClassifier, 100 epochs). With --oos-label, test rows carrying
that label are out of scope: the pipeline should fall back on them (train rows with that label, if any,
are kept as their own class). Nothing is tuned on the test file: the threshold sweep in the JSON is
for choosing the threshold on a validation file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.nlu", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--train", type=Path, required=True, help="training CSV (text,<label>)")
    parser.add_argument("--test", type=Path, required=True, help="test CSV (text,<label>)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON report")
    parser.add_argument("--oos-label", help="label of out-of-scope test rows (they should get nlu_fallback)")
    parser.add_argument("--baseline", action="store_true", help="Rasa's default pipeline instead of config.yml")
    parser.add_argument("--config", type=Path, help="another Rasa config file to read the pipeline from")
    parser.add_argument(
        "--work-dir", type=Path, default=Path(".cache/bench/nlu-runs"), help="where training data and models go"
    )
    args = parser.parse_args(argv)

    from bench.nlu.data_io import BenchDataError, read_csv
    from bench.nlu.pipelines import PROJECT_CONFIG, baseline_nlu_config, project_nlu_config
    from bench.nlu.runner import format_report, run

    try:
        train_rows, test_rows = read_csv(args.train), read_csv(args.test)
        if len({e.label for e in train_rows}) < 2:
            raise BenchDataError(f"{args.train}: need at least 2 labels to train a classifier")
        if args.baseline:
            config, name = baseline_nlu_config(), "rasa-default"
        else:
            config, name = project_nlu_config(args.config or PROJECT_CONFIG), "project"
    except (BenchDataError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = run(config, train_rows, test_rows, args.oos_label, name, runs_dir=args.work_dir)
    report.update(train_file=str(args.train), test_file=str(args.test), oos_label=args.oos_label)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(format_report(report))
    print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
