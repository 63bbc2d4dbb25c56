"""Re-measure single-message latency of an already trained model (no retraining).

  python -m bench.nlu.latency --model .cache/bench/nlu-runs/<run>/models/nlu.tar.gz --texts test.csv [--n 500]

Useful when the benchmark ran on a busy machine: latency is what a loaded shared CPU distorts most.
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="packed Rasa model (.tar.gz)")
    parser.add_argument("--texts", type=Path, required=True, help="CSV with a `text` first column")
    parser.add_argument("--n", type=int, default=500, help="how many messages to time")
    args = parser.parse_args(argv)
    if not args.model.is_file():
        print(f"error: {args.model}: no such model", file=sys.stderr)
        return 2

    from bench.nlu import metrics
    from bench.nlu.data_io import read_csv
    from bench.nlu.runner import predict_all, quiet_rasa_logs

    quiet_rasa_logs()
    texts = [e.text for e in read_csv(args.texts)][: max(1, args.n)]
    _, latencies = predict_all(args.model, texts)
    load = os.getloadavg()
    result = {
        "n": len(latencies),
        "p50_ms": round(metrics.percentile(latencies, 50), 2),
        "p95_ms": round(metrics.percentile(latencies, 95), 2),
        "load_average_1m": round(load[0], 2),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
