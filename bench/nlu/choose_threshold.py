"""Choose the FallbackClassifier threshold from the threshold sweep of a validation run.

  python -m bench.nlu.choose_threshold .cache/bench/results/hwu64-oos-valid-project.json [--max-false-fallback 0.05]

The objective is balanced accuracy of the fallback decision: the mean of in-scope accuracy (a fallback
on an in-scope message counts as wrong) and OOS recall; a wrong confident answer and an unneeded "I did
not understand" both hurt the customer. Optionally only thresholds whose in-scope fallback rate stays
under --max-false-fallback are considered. Run it on a validation file, never on the test file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def choose(sweep: list[dict[str, float]], max_false_fallback: float = 1.0) -> dict[str, float]:
    """The sweep row with the best balanced score (ties: the lower threshold)."""
    allowed = [row for row in sweep if row["in_scope_fallback_rate"] <= max_false_fallback] or sweep
    return max(allowed, key=lambda r: (0.5 * (r["in_scope_accuracy"] + r["oos_recall"]), -r["threshold"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path, help="JSON written by `python -m bench.nlu ... --oos-label L`")
    parser.add_argument("--max-false-fallback", type=float, default=1.0)
    parser.add_argument("--ambiguity", type=float, help="re-sweep with this ambiguity_threshold")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text(encoding="utf-8"))
    sweep = report.get("threshold_sweep")
    if args.ambiguity is not None and report.get("predictions"):
        from bench.nlu.metrics import threshold_sweep
        from bench.nlu.runner import SWEEP

        rows = report["predictions"]
        top = [(r["top"], r["confidence"], r["second"]) for r in rows]
        sweep = threshold_sweep([r["gold"] for r in rows], top, report["oos_label"], SWEEP, args.ambiguity)
    if not sweep:
        print(f"error: {args.report} has no threshold_sweep (run the benchmark with --oos-label)", file=sys.stderr)
        return 2
    print("threshold  in-scope acc  false fallback  OOS recall  OOS precision  balanced")
    for r in sweep:
        balanced = 0.5 * (r["in_scope_accuracy"] + r["oos_recall"])
        print(
            f"{r['threshold']:9.2f}  {r['in_scope_accuracy'] * 100:11.1f}%  {r['in_scope_fallback_rate'] * 100:13.1f}%"
            f"  {r['oos_recall'] * 100:9.1f}%  {r['oos_precision'] * 100:12.1f}%  {balanced * 100:7.1f}%"
        )
    best = choose(sweep, args.max_false_fallback)
    print(f"chosen threshold: {best['threshold']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
