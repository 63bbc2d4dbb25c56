"""Scale run: build throughput, index size on disk, peak memory and query latency at 10k / 100k passages.

python -m bench.retrieval.scale --n 100000 [--sizes 10000,100000] [--sample 400] [--out .data/bench/out/scale.json]

HONEST NOTE (also written into the output): embedding 100k passages with e5 on 2 shared cores takes
hours, so only ``--sample`` passages are embedded for real (that measures embedding throughput).
Every other passage gets a *derived* vector: the normalised mix of two real sample vectors plus noise.
Passage texts are real sentences from StackFAQ, FAQuAD and kb_articles recombined (so BM25 sees real
vocabulary). Queries are real StackFAQ/FAQuAD questions, embedded for real at query time.
Also measured: re-indexing after one article changes (incremental), and FAISS flat vs HNSW speed and
recall at several sizes — the data behind ``index.hnsw_above`` in retrieval.yml.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from bench.retrieval.__main__ import cpu_model  # noqa: E402
from bench.retrieval.core import read_jsonl  # noqa: E402
from retrieval.config import REPO_ROOT, load_settings  # noqa: E402
from retrieval.encoders import Encoder  # noqa: E402
from retrieval.index import build_faiss, build_index, configure_threads, make_encoders, save_index  # noqa: E402
from retrieval.ingest import Article, load_articles  # noqa: E402
from retrieval.search import Searcher  # noqa: E402


class SampledEncoder:
    """Real vectors for the first ``sample`` passages, derived vectors (mix of two real ones + noise) after."""

    def __init__(self, inner: Encoder, sample: int, seed: int = 0) -> None:
        self.inner = inner
        self.name, self.version, self.dim, self.languages = inner.name, inner.version, inner.dim, inner.languages
        self.sample = sample
        self.real: list[np.ndarray] = []
        self.real_seconds = 0.0
        self.rng = np.random.default_rng(seed)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        need_real = max(0, min(len(texts), self.sample - len(self.real)))
        if need_real:
            t0 = time.perf_counter()
            vecs = self.inner.encode_passages(texts[:need_real])
            self.real_seconds += time.perf_counter() - t0
            self.real.extend(vecs)
            out[:need_real] = vecs
        for i in range(need_real, len(texts)):
            h = int(hashlib.sha1(texts[i].encode()).hexdigest()[:8], 16)
            a, b = self.real[h % len(self.real)], self.real[(h // 7) % len(self.real)]
            v = 0.7 * a + 0.3 * b + self.rng.normal(0, 0.02, self.dim).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


def sentences(data_dir: Path) -> list[str]:
    """Real sentences to recombine into passages."""
    texts = []
    for ds in ("stackfaq", "faquad"):
        p = data_dir / ds / "corpus.jsonl"
        if p.exists():
            texts += [d["title"] + ". " + d["text"] for d in read_jsonl(p)]
    texts += [a.body for a in load_articles(REPO_ROOT / "kb_articles").articles]
    out = [s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+|\n+", t) if len(s.split()) >= 4]
    if not out:
        raise SystemExit("no text found: run bench.retrieval.convert first")
    return out


def synthetic_articles(n: int, sents: list[str], seed: int = 1) -> list[Article]:
    rng = random.Random(seed)
    arts = []
    for i in range(n):
        body = " ".join(rng.choice(sents) for _ in range(rng.randint(2, 5)))
        title = " ".join(rng.choice(sents).split()[:8])
        lang = "pt" if i % 2 else "en"
        arts.append(Article(id=f"s{i:06d}", title=title, lang=lang, category="service", body=body, fmt="text"))
    return arts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def latency(fn, queries: list[dict]) -> dict:  # type: ignore[no-untyped-def]
    for q in queries[:5]:
        fn(q)
    t = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        t.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": round(float(np.percentile(t, 50)), 2), "p95_ms": round(float(np.percentile(t, 95)), 2),
            "n": len(t)}


def switch_point(settings, vecs: np.ndarray, qvecs: np.ndarray, sizes: list[int]) -> list[dict]:  # type: ignore[no-untyped-def]
    """Flat vs HNSW query time and HNSW recall@10 by size (dense search only)."""
    rows = []
    for n in sizes:
        if n > len(vecs):
            break
        flat = build_faiss(vecs[:n], settings.with_overrides(index={"hnsw_above": 10**12}))
        t0 = time.perf_counter()
        hnsw = build_faiss(vecs[:n], settings.with_overrides(index={"hnsw_above": 0}))
        hnsw_build = time.perf_counter() - t0
        res = {}
        for name, ix in (("flat", flat), ("hnsw", hnsw)):
            t = []
            ids = []
            for q in qvecs:
                t0 = time.perf_counter()
                _, i = ix.search(q[None, :], 10)
                t.append((time.perf_counter() - t0) * 1000)
                ids.append(i[0])
            res[name] = (float(np.percentile(t, 50)), float(np.percentile(t, 95)), ids)
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(res["flat"][2], res["hnsw"][2], strict=True)]))
        rows.append({"n": n, "flat_p50_ms": round(res["flat"][0], 3), "flat_p95_ms": round(res["flat"][1], 3),
                     "hnsw_p50_ms": round(res["hnsw"][0], 3), "hnsw_p95_ms": round(res["hnsw"][1], 3),
                     "hnsw_recall_at_10": round(recall, 4), "hnsw_build_s": round(hnsw_build, 2)})
        print("switch point", rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.retrieval.scale", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100000, help="largest number of passages")
    ap.add_argument("--sizes", default="10000", help="smaller sizes to measure too (comma separated)")
    ap.add_argument("--sample", type=int, default=400, help="passages embedded for real")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--data-dir", type=Path, default=Path(".data/bench"))
    ap.add_argument("--out", type=Path, default=Path(".data/bench/out/scale.json"))
    args = ap.parse_args(argv)

    settings = load_settings()
    configure_threads(int(settings["threads"]))
    encoders = {k: SampledEncoder(e, args.sample) for k, e in make_encoders(settings).items()}
    sents = sentences(args.data_dir)
    queries = []
    for ds in ("stackfaq", "faquad"):
        p = args.data_dir / ds / "queries_test.jsonl"
        if p.exists():
            queries += read_jsonl(p)[: args.queries // 2]
    result: dict = {
        "note": (f"Only {args.sample} passages per encoder are embedded for real (embedding throughput); the "
                 "others get derived vectors (0.7·a + 0.3·b + N(0, 0.02) of two real vectors, normalised). "
                 "Texts are real sentences recombined; queries are real and embedded at query time."),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count()}, "sizes": {},
    }
    sizes = sorted({int(s) for s in args.sizes.split(",") if s} | {args.n})
    for n in sizes:
        arts = synthetic_articles(n, sents)
        rss0 = peak_rss_mb()
        real_before = sum(e.real_seconds for e in encoders.values())
        t0 = time.perf_counter()
        data, stats = build_index(settings, arts, encoders, progress=True)
        build_s = time.perf_counter() - t0
        real_s = sum(e.real_seconds for e in encoders.values()) - real_before  # embedded for real in THIS build
        real_n = sum(min(e.sample, len(e.real)) for e in encoders.values())
        total_real_s = sum(e.real_seconds for e in encoders.values())
        searcher = Searcher(data, encoders, settings)  # type: ignore[arg-type]
        tmp = Path(tempfile.mkdtemp(prefix="scale-", dir=args.data_dir))
        t1 = time.perf_counter()
        saved = save_index(data, tmp)
        save_s = time.perf_counter() - t1
        # incremental: one article changes, everything else reuses stored vectors
        changed = list(arts)
        changed[3] = Article(id=changed[3].id, title=changed[3].title, lang=changed[3].lang, category="service",
                             body=changed[3].body + " Atualizado: novo prazo de entrega.", fmt="text")
        t2 = time.perf_counter()
        data2, st2 = build_index(settings, changed, encoders, previous=data, progress=False)
        save_index(data2, tmp)
        reindex_s = time.perf_counter() - t2
        lat = {lang: latency(lambda q, s=searcher: s.search(q["query"], lang=q["lang"], k=5),
                             [q for q in queries if q["lang"] == lang]) for lang in ("en", "pt")}
        all_lat = latency(lambda q, s=searcher: s.search(q["query"], lang=q["lang"], k=5), queries)
        row = {
            "passages": stats["passages"], "index_types": data.manifest["index_types"],
            "build_seconds_total": round(build_s, 2),
            "build_seconds_without_real_embedding": round(build_s - real_s, 2),
            "embedding_passages_per_s": round(real_n / total_real_s, 2) if total_real_s else None,
            "extrapolated_full_embedding_hours": round(
                sum(stats["passages"] / (e.sample / e.real_seconds) for e in encoders.values()
                    if e.real_seconds) / 3600, 2),
            "save_seconds": round(save_s, 2), "disk_mb": round(dir_mb(saved), 1),
            "peak_rss_mb": round(peak_rss_mb(), 1), "peak_rss_before_mb": round(rss0, 1),
            "reindex_one_article_seconds": round(reindex_s, 2), "reindex_embedded": st2["passages_embedded"],
            "query_latency_hybrid": all_lat, "query_latency_by_lang": lat,
        }
        result["sizes"][str(n)] = row
        print(n, json.dumps(row), flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
        if n == args.n:
            key = "default"
            vecs = data.vectors[key]
            qv = encoders[key].encode_queries([q["query"] for q in queries[:100]])
            result["switch_point"] = switch_point(
                settings, vecs, qv, [s for s in (1000, 5000, 10000, 20000, 50000, 100000) if s <= len(vecs)])
        del data, data2, searcher
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"→ {args.out}")


if __name__ == "__main__":
    main()
