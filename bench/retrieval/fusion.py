"""Fusion study: compare ways of combining the BM25 and dense rankings on several data sets at once.

python -m bench.retrieval.fusion collect [--data-dir .data/bench]   # embeds (cached) and stores candidates
python -m bench.retrieval.fusion compare [--split dev]               # every fusion rule on every data set

``collect`` runs the real searcher once per query and stores each query's fusion candidates (the union of
the BM25 and dense top lists with both scores), so ``compare`` can evaluate fusion rules in milliseconds.
Data sets (each is "a data set" for the never-worse-than-the-better-ranking check):

* ``stackfaq/minilm``  StackFAQ, English queries routed to MiniLM (the product's English route)
* ``stackfaq/e5``      StackFAQ with the multilingual e5 model (what a deployment without MiniLM gets)
* ``faquad/e5``        FAQuAD (Portuguese)
* ``kbx/pt-en``, ``kbx/en-pt``  cross-language: help-center titles in one language over the other language's
  articles only (``bench.retrieval.convert kbx``)

Tuning uses the ``dev`` split only; ``--split test`` is for reporting.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from bench.retrieval.core import build_searcher, read_jsonl  # noqa: E402
from retrieval import fusion  # noqa: E402
from retrieval.config import load_settings  # noqa: E402

SETS = {  # name -> (data folder, use the product's query routes)
    "stackfaq/minilm": ("stackfaq", True),
    "stackfaq/e5": ("stackfaq", False),
    "faquad/e5": ("faquad", False),
    "kbx/pt-en": ("kbx_pt_en", False),
    "kbx/en-pt": ("kbx_en_pt", False),
}


def collect(data_dir: Path, names: list[str]) -> None:
    """Store, per query: candidate article keys, dense cosine, BM25/bound, BM25 raw, relevant keys."""
    base = load_settings()
    built: dict[str, object] = {}
    for name in names:
        folder, routes = SETS[name]
        if not (data_dir / folder / "corpus.jsonl").exists():
            print(f"skip {name}: {data_dir / folder} missing (run bench.retrieval.convert)")
            continue
        if folder not in built:
            corpus = read_jsonl(data_dir / folder / "corpus.jsonl")
            built[folder] = build_searcher(base, corpus, progress=True, cache_dir=data_dir / "cache",
                                           cache_queries=True)[0]
        searcher = built[folder]
        searcher.settings = base if routes else base.with_overrides(query_routes={})  # type: ignore[attr-defined]
        out = {}
        for split in ("dev", "test"):
            rows = []
            for q in read_jsonl(data_dir / folder / f"queries_{split}.jsonl"):
                groups = sorted(set(searcher.data.langs.tolist()))  # type: ignore[attr-defined]
                group = q["lang"] if q["lang"] in groups else groups[0]
                g = searcher.score_group(q["query"], q["lang"], group, "hybrid", verdict=False)  # type: ignore[attr-defined]
                keys = [searcher.data.passages[i].article_key.split("/", 1)[1] for i in g.idx.tolist()]  # type: ignore[attr-defined]
                rows.append({"id": q["id"], "keys": keys, "dense": g.dense.copy(), "lex": g.lexical.copy(),
                             "title": None if g.title is None else g.title.copy(), "relevant": set(q["relevant"]),
                             "title_distinct": searcher.title_distinct.get(group, 1.0)})  # type: ignore[attr-defined]
            out[split] = rows
            print(f"{name} {split}: {len(rows)} queries", flush=True)
        for e in searcher.encoders.values():  # type: ignore[attr-defined]
            e.save()
        path = data_dir / "out" / f"cands-{name.replace('/', '_')}.pkl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(out))


def doc_mrr(rows: list[dict], rule) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """MRR@10 and R@5 over documents ranked by their best fused passage."""
    mrr = r5 = 0.0
    for r in rows:
        fused = rule(r)
        order = np.lexsort((np.arange(len(fused)), -fused))
        seen: list[str] = []
        for i in order.tolist():
            if r["keys"][i] not in seen:
                seen.append(r["keys"][i])
                if len(seen) >= 10:
                    break
        rank = next((n for n, k in enumerate(seen, 1) if k in r["relevant"]), None)
        mrr += 1.0 / rank if rank else 0.0
        r5 += len(set(seen[:5]) & r["relevant"]) / len(r["relevant"])
    n = max(1, len(rows))
    return mrr / n, r5 / n


def rules() -> dict:
    """Fusion rules to compare (each maps a stored query row to fused candidate scores)."""
    out = {
        "bm25": lambda r: r["lex"],
        "dense": lambda r: r["dense"],
        "title (question-to-title)": lambda r: r["title"] if r["title"] is not None else r["dense"],
        "fixed w=0.5": lambda r: fusion.weighted(r["dense"], r["lex"], 0.5),
        "fixed w=0.7": lambda r: fusion.weighted(r["dense"], r["lex"], 0.7),
        "rrf": lambda r: fusion.rrf(r["dense"], r["lex"], 0.5),
    }
    for top in (5, 10, 20):
        for sharp in (1.0, 2.0, 3.0):
            cfg = fusion.FusionConfig(method="adaptive", confidence_top=top, sharpness=sharp)
            out[f"adaptive top={top} p={sharp:g}"] = lambda r, c=cfg: fusion.fuse(r["dense"], r["lex"], c)
            out[f"adaptive+title top={top} p={sharp:g}"] = lambda r, c=cfg: fusion.fuse(
                r["dense"], r["lex"], c, title=r["title"], title_distinct=r.get("title_distinct", 1.0))
    return out


def compare(data_dir: Path, split: str, names: list[str], out_path: Path | None) -> dict:
    table: dict[str, dict[str, tuple[float, float]]] = {}
    for name in names:
        path = data_dir / "out" / f"cands-{name.replace('/', '_')}.pkl"
        if not path.exists():
            continue
        rows = pickle.loads(path.read_bytes())[split]
        table[name] = {rn: doc_mrr(rows, rule) for rn, rule in rules().items()}
    sets = list(table)
    print(f"split {split}: MRR@10 / R@5; 'worst gap' = min over data sets of (rule - better of bm25/dense)")
    print(f"{'rule':28}" + "".join(f"{s:>20}" for s in sets) + f"{'worst gap':>11}{'mean':>8}")
    for rn in rules():
        gaps = [table[s][rn][0] - max(table[s]["bm25"][0], table[s]["dense"][0]) for s in sets]
        mean = sum(table[s][rn][0] for s in sets) / max(1, len(sets))
        print(f"{rn:28}" + "".join(f"{table[s][rn][0]:>12.4f}/{table[s][rn][1]:.3f}" for s in sets)
              + f"{min(gaps):>11.4f}{mean:>8.4f}")
    if out_path:
        out_path.write_text(json.dumps({s: {rn: {"mrr_at_10": round(v[0], 4), "recall_at_5": round(v[1], 4)}
                                            for rn, v in t.items()} for s, t in table.items()}, indent=1))
    return table


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.retrieval.fusion", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["collect", "compare"])
    ap.add_argument("--data-dir", type=Path, default=Path(".data/bench"))
    ap.add_argument("--split", default="dev", choices=["dev", "test"])
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    names = [s for s in args.sets.split(",") if s]
    unknown = [s for s in names if s not in SETS]
    if unknown:
        raise SystemExit(f"unknown data set(s) {unknown}; choose from {list(SETS)}")
    if args.action == "collect":
        collect(args.data_dir, names)
    else:
        compare(args.data_dir, args.split, names, args.out)


if __name__ == "__main__":
    main()
