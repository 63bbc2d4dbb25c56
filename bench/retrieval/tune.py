"""Tune lexical normaliser, title weight and fusion on the DEV splits of both data sets at once.

python -m bench.retrieval.tune [--data-dir .data/bench] [--out .data/bench/out/tune.json]

One configuration must serve both languages, so the score of a configuration is the mean MRR@10 of
StackFAQ-dev and FAQuAD-dev (plus the worse of the two, printed). Passage and query vectors are cached.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

from bench.retrieval.core import build_searcher, evaluate, read_jsonl  # noqa: E402
from retrieval.config import load_settings  # noqa: E402
from retrieval.fusion import FusionConfig  # noqa: E402

DATASETS = ("stackfaq", "faquad")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.retrieval.tune", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path(".data/bench"))
    ap.add_argument("--split", default="dev")
    ap.add_argument("--out", type=Path, default=Path(".data/bench/out/tune.json"))
    ap.add_argument("--normalizers", default="snowball,lemma")
    ap.add_argument("--title-weights", default="1,2,3")
    ap.add_argument("--weights", default="0.3,0.4,0.5,0.6,0.7,0.8,0.9")
    args = ap.parse_args(argv)
    base = load_settings()
    cache = args.data_dir / "cache"
    data = {d: (read_jsonl(args.data_dir / d / "corpus.jsonl"),
                read_jsonl(args.data_dir / d / f"queries_{args.split}.jsonl")) for d in DATASETS}
    rows = []
    for norm, tw in itertools.product(args.normalizers.split(","), [float(x) for x in args.title_weights.split(",")]):
        lex = dict(base["lexical"], normalizer=norm, title_weight=tw)
        settings = base.with_overrides(lexical=lex)
        searchers = {d: build_searcher(settings, c, progress=False, cache_dir=cache, cache_queries=True)[0]
                     for d, (c, _) in data.items()}
        single = {d: {m: evaluate(searchers[d], data[d][1], m)[0]["mrr_at_10"] for m in ("bm25", "dense")}
                  for d in DATASETS}
        print(f"{norm} title×{tw}: " + ", ".join(f"{d} bm25 {single[d]['bm25']} dense {single[d]['dense']}"
                                                  for d in DATASETS), flush=True)
        for method in ("weighted", "rrf"):
            for w in [float(x) for x in args.weights.split(",")]:
                res = {}
                for d in DATASETS:
                    s = searchers[d]
                    s.fusion = FusionConfig(method=method, dense_weight=w)
                    res[d] = evaluate(s, data[d][1], "hybrid")[0]
                row = {"normalizer": norm, "title_weight": tw, "method": method, "dense_weight": w,
                       **{f"{d}_mrr": res[d]["mrr_at_10"] for d in DATASETS},
                       **{f"{d}_r5": res[d]["recall_at_5"] for d in DATASETS},
                       **{f"{d}_{m}": single[d][m] for d in DATASETS for m in ("bm25", "dense")}}
                row["mean_mrr"] = round(sum(row[f"{d}_mrr"] for d in DATASETS) / len(DATASETS), 4)
                rows.append(row)
                print(f"  {method:8} w={w:.1f}  " + "  ".join(f"{d} {row[f'{d}_mrr']:.4f}/{row[f'{d}_r5']:.4f}"
                                                           for d in DATASETS) + f"  mean {row['mean_mrr']:.4f}",
                      flush=True)
    rows.sort(key=lambda r: -r["mean_mrr"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print("best:", json.dumps(rows[0]))


if __name__ == "__main__":
    main()
