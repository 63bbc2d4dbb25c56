"""Retrieval benchmark: bm25, dense and hybrid over the same corpus in one run.

python -m bench.retrieval --corpus C.jsonl --queries Q.jsonl --out O.json [--config retrieval/retrieval.yml]

Builds the indexes over CORPUS ({"id","title","text","lang"} per line) with the settings of
retrieval.yml, ranks documents (best passage per document) for every query of QUERIES
({"id","query","lang","relevant":[ids]}) and writes {"bm25": M, "dense": M, "hybrid": M,
"hybrid_fixed": M, "build_seconds", "n_docs", "n_queries", ...} with M = recall_at_1, recall_at_5, mrr_at_10, ndcg_at_10,
query_p50_ms, query_p95_ms (one query at a time, embedding included).

``hybrid`` is the product's fusion (retrieval.yml); ``hybrid_fixed`` is the previous one for comparison
(fixed min-max weights: 0.5, or 0.7 for MiniLM; no title signal). A query whose language has no documents
in the corpus is ranked over the other language's documents, as the product does.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before numpy/faiss/torch are imported

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from tqdm import tqdm  # noqa: E402

from bench.retrieval.core import build_searcher, evaluate, read_jsonl  # noqa: E402
from retrieval.config import load_settings  # noqa: E402
from retrieval.fusion import FusionConfig  # noqa: E402
from retrieval.search import METHODS  # noqa: E402

OLD_FUSION = FusionConfig(method="weighted", dense_weight=0.5, dense_weight_by_encoder={"minilm_en": 0.7},
                          title_signal=False)
ROWS = (*METHODS, "hybrid_fixed")


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, type=Path, help="corpus JSONL")
    ap.add_argument("--queries", required=True, type=Path, help="queries JSONL")
    ap.add_argument("--out", required=True, type=Path, help="where to write the metrics JSON")
    ap.add_argument("--config", type=Path, default=None, help="retrieval.yml to use (default: the product's)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="reuse passage vectors stored here (build time then excludes embedding; queries are "
                         "always embedded at query time)")
    args = ap.parse_args(argv)

    settings = load_settings(args.config)
    corpus = read_jsonl(args.corpus)
    queries = read_jsonl(args.queries)
    if not corpus or not queries:
        raise SystemExit("corpus and queries must both be non-empty")
    searcher, build_s = build_searcher(settings, corpus, progress=not args.quiet, cache_dir=args.cache_dir)
    for q in queries[:3]:  # warm-up: first calls pay lazy initialisation, not the steady state
        for m in METHODS:
            searcher.rank_documents(q["query"], q["lang"], m)
    result: dict = {}
    product_fusion = searcher.fusion
    for row in ROWS:
        method = "hybrid" if row == "hybrid_fixed" else row
        searcher.fusion = OLD_FUSION if row == "hybrid_fixed" else product_fusion
        t0 = time.perf_counter()
        bar = tqdm(queries, desc=row, unit="query", disable=args.quiet)
        result[row], _ = evaluate(searcher, list(bar), method)
        result[row]["seconds"] = round(time.perf_counter() - t0, 2)
    searcher.fusion = product_fusion
    base = result["bm25"]["mrr_at_10"] or 1e-9
    for method in ROWS:
        result[method]["mrr_ratio_vs_bm25"] = round(result[method]["mrr_at_10"] / base, 4)
    result.update({
        "build_seconds": round(build_s, 2), "passage_vectors_cached": args.cache_dir is not None, "n_docs": len(corpus), "n_queries": len(queries),
        "n_passages": len(searcher.data.passages),
        "encoders": {k: v["name"] for k, v in searcher.data.manifest["encoders"].items()},
        "query_routes": settings["query_routes"], "fusion": settings["fusion"], "lexical": settings["lexical"],
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count()},
        "corpus": str(args.corpus), "queries": str(args.queries),
    })
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    cols = ["recall_at_1", "recall_at_5", "mrr_at_10", "ndcg_at_10", "query_p50_ms", "query_p95_ms"]
    print(f"{len(corpus)} docs, {len(queries)} queries, {result['n_passages']} passages, build {build_s:.1f}s")
    print(f"{'method':12} " + " ".join(f"{c:>12}" for c in cols) + f" {'MRR/bm25':>9}")
    for m in ROWS:
        print(f"{m:12} " + " ".join(f"{result[m][c]:>12}" for c in cols) + f" {result[m]['mrr_ratio_vs_bm25']:>9}")
    print(f"→ {args.out}")
    return result


if __name__ == "__main__":
    main()
