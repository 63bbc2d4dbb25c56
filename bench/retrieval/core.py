"""Shared pieces of the retrieval benchmarks: corpus loading, index building, metrics."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from retrieval.config import Settings
from retrieval.index import build_index, configure_threads, make_encoders
from retrieval.ingest import Article
from retrieval.search import Searcher


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
    return rows


def corpus_articles(corpus: list[dict]) -> list[Article]:
    """Benchmark documents become plain-text articles (windowed like any long section)."""
    out = []
    for d in corpus:
        for k in ("id", "title", "text", "lang"):
            if k not in d:
                raise SystemExit(f"corpus document {d.get('id', '?')} lacks {k!r}")
        out.append(Article(id=str(d["id"]), title=d["title"] or "", lang=d["lang"], category="service",
                           body=d["text"] or "", fmt="text"))
    return out


def build_searcher(settings: Settings, corpus: list[dict], progress: bool = True, cache_dir: Path | None = None,
                   cache_queries: bool = False) -> tuple[Searcher, float]:
    """Index ``corpus`` in memory with ``settings``; ``cache_dir`` reuses passage vectors between runs."""
    from bench.retrieval.cache import CachedEncoder

    configure_threads(int(settings["threads"]))
    encoders = make_encoders(settings)
    if cache_dir is not None:
        encoders = {k: CachedEncoder(e, cache_dir, cache_queries) for k, e in encoders.items()}  # type: ignore[misc]
    t0 = time.perf_counter()
    data, _ = build_index(settings, corpus_articles(corpus), encoders, progress=progress)
    build_s = time.perf_counter() - t0
    if cache_dir is not None:
        for e in encoders.values():
            e.save()  # type: ignore[attr-defined]
    return Searcher(data, encoders, settings), build_s


def rank_of(ranked: list[str], relevant: set[str]) -> int | None:
    for i, d in enumerate(ranked, 1):
        if d in relevant:
            return i
    return None


def metrics(rankings: list[list[str]], relevants: list[set[str]], times_ms: list[float]) -> dict:
    """recall@1/@5, MRR@10, nDCG@10 (binary gains), per-query latency percentiles."""
    r1 = r5 = mrr = ndcg = 0.0
    for ranked, rel in zip(rankings, relevants, strict=True):
        top = ranked[:10]
        hits = [d in rel for d in top]
        r1 += any(hits[:1]) and 1.0 / 1 * len(set(top[:1]) & rel) / min(len(rel), 1)
        r5 += len(set(top[:5]) & rel) / len(rel)
        first = rank_of(top, rel)
        mrr += 1.0 / first if first else 0.0
        dcg = sum(1.0 / math.log2(i + 2) for i, h in enumerate(hits) if h)
        idcg = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), 10)))
        ndcg += dcg / idcg if idcg else 0.0
    n = max(len(rankings), 1)
    t = np.asarray(times_ms or [0.0])
    return {"recall_at_1": round(r1 / n, 4), "recall_at_5": round(r5 / n, 4), "mrr_at_10": round(mrr / n, 4),
            "ndcg_at_10": round(ndcg / n, 4), "query_p50_ms": round(float(np.percentile(t, 50)), 2),
            "query_p95_ms": round(float(np.percentile(t, 95)), 2)}


def evaluate(searcher: Searcher, queries: list[dict], method: str) -> tuple[dict, list[list[str]]]:
    """Rank documents for every query, one query at a time (latency includes the query embedding)."""
    rankings, rels, times = [], [], []
    for q in queries:
        t0 = time.perf_counter()
        keys = searcher.rank_documents(q["query"], q["lang"], method, top=10)
        times.append((time.perf_counter() - t0) * 1000)
        rankings.append([k.split("/", 1)[1] for k in keys])
        rels.append(set(q["relevant"]))
    return metrics(rankings, rels, times), rankings
