"""Purity of the knowledge-base gap clustering (services/workspace/gaps.py) on labelled paraphrase samples.

python -m bench.workspace.gap_clustering [--datasets faquad stackfaq mixed bot all] [--csv file.csv ...] [--out f.json]

Data (``/work/shared/datasets``, see its README; or any CSV with ``text,label`` columns):

* FaQuAD (pt): questions grouped by the paragraph that answers them (questions about one passage);
* StackFAQ (en): the paraphrased queries (``rephr``) and the original question of each FAQ pair;
* mixed: both together (pt and en in one report, as the lead's page has them);
* kb (pt + en): each help-center article's title and ``##`` headings with those of its translation, grouped
  by article and section: one topic said in two languages (written by the team);
* bot (pt + en): the bot's own NLU training examples (bot/data/nlu/*.yml) grouped by intent, both languages
  under one label: the only sample here where one question is asked in pt and in en, as customers do. Written by
  the team (not independent data), so it is reported beside the public sets, not instead of them.

Each data set's groups are split in two halves by label (seeded): the threshold (and the linkage method) with
the best pairwise F1 on the DEV half is then measured on the TEST half. Figures per data set: purity (share of
questions in the majority label of their cluster), inverse purity (share in the majority cluster of their
label: high when paraphrases are not scattered), pairwise precision/recall/F1 (pairs of questions put
together), and the number of clusters against the number of true groups. Embeddings come from the app's
encoder (retrieval.yml ``encoders.default``, multilingual e5), as ``e5 query:`` texts like the report does.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from tqdm import tqdm  # noqa: E402

from embeddings.bench import cpu_model
from services.workspace.gaps import cluster_vectors  # noqa: E402

DATA = Path(os.environ.get("BENCH_DATASETS", "/work/shared/datasets"))
REPO_ROOT = Path(__file__).resolve().parents[2]
METHODS = ("average", "complete", "greedy")
BUILTIN = ("faquad", "stackfaq", "mixed", "kb", "bot", "all")
BONUS_GRID = [round(x, 2) for x in np.arange(0.0, 0.081, 0.01)]
GRID = [round(x, 2) for x in np.arange(0.78, 0.955, 0.01)]
FIXED = (0.86, 0.88, 0.9)  # test figures at these thresholds too, whatever DEV chose


def load_faquad(root: Path = DATA) -> list[tuple[str, str]]:
    raw = json.loads((root / "faquad_ptbr" / "dataset.json").read_text(encoding="utf-8"))
    return [(qa["question"].strip(), f"faquad:{doc['title']}:{i}")
            for doc in raw["data"] for i, par in enumerate(doc["paragraphs"]) for qa in par["qas"]
            if qa["question"].strip()]


def load_stackfaq(root: Path = DATA) -> list[tuple[str, str]]:
    raw = json.loads((root / "stackfaq" / "stackExchange-FAQ.json").read_text(encoding="utf-8"))
    out = []
    for i, pair in enumerate(raw["root"]["qapair"]):
        for text in [*pair.get("rephr", []), pair.get("question", "")]:
            text = " ".join(str(text).split())
            if sum(ch.isalpha() for ch in text) >= 3:  # the data holds a few "*" placeholders
                out.append((text, f"stackfaq:{i}"))
    return out


# Intents that are not one question (catch-alls): left out of the bot sample.
BOT_SKIP = frozenset({"out_of_scope", "inform", "nlu_fallback"})
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


def load_bot(root: Path = REPO_ROOT / "bot" / "data" / "nlu") -> list[tuple[str, str]]:
    out = []
    for path in sorted(root.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            intent = block.get("intent")
            if not intent or intent in BOT_SKIP:
                continue
            for line in str(block.get("examples") or "").splitlines():
                text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", line.strip().removeprefix("- "))
                if sum(ch.isalpha() for ch in text) >= 3:
                    out.append((" ".join(text.split()), f"bot:{intent}"))
    return out


def load_kb(root: Path = REPO_ROOT / "kb_articles") -> list[tuple[str, str]]:
    """Cross-language paraphrases: an article's title and its ``##`` headings in pt, with the same ones of its
    en translation (the checker keeps the sections in the same order). Headings every article has ("Ainda
    precisa de ajuda?") are left out."""
    from textnorm.frontmatter import split_front_matter

    def parts(path: Path) -> tuple[dict, list[str]]:
        front = split_front_matter(path.read_text(encoding="utf-8"), path)
        return front.meta, [h.strip() for h in re.findall(r"^## (.+)$", front.body, re.MULTILINE)]

    rows, common = [], Counter()
    pairs = []
    for path in sorted((root / "pt").glob("*.md")):
        meta, heads = parts(path)
        other = root / "en" / f"{meta.get('translation')}.md"
        if not other.is_file():
            continue
        en_meta, en_heads = parts(other)
        pairs.append((path.stem, (meta["title"], en_meta["title"]), list(zip(heads, en_heads, strict=False))))
        common.update(heads)
    for art, titles, heads in pairs:
        rows += [(titles[0], f"kb:{art}:title"), (titles[1], f"kb:{art}:title")]
        for k, (pt, en) in enumerate(heads):
            if common[pt] <= 2:
                rows += [(pt, f"kb:{art}:{k}"), (en, f"kb:{art}:{k}")]
    return rows


def load_csv(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["text"].strip(), f"{path.stem}:{row['label']}") for row in csv.DictReader(handle)
                if row.get("text", "").strip()]


def split(rows: list[tuple[str, str]], seed: int) -> tuple[list[int], list[int]]:
    """Row indices of DEV and TEST: half of the labels each (a label's questions stay together)."""
    labels = sorted({label for _, label in rows})
    random.Random(seed).shuffle(labels)
    dev_labels = set(labels[: len(labels) // 2])
    dev = [i for i, (_, label) in enumerate(rows) if label in dev_labels]
    return dev, [i for i, (_, label) in enumerate(rows) if label not in dev_labels]


def scores(groups: list[list[int]], labels: list[str]) -> dict[str, float]:
    """Purity, inverse purity, pairwise precision/recall/F1 and cluster counts of one clustering."""
    n = len(labels)
    cluster_of = {i: c for c, members in enumerate(groups) for i in members}
    purity = sum(Counter(labels[i] for i in members).most_common(1)[0][1] for members in groups) / n
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    inverse = sum(Counter(cluster_of[i] for i in members).most_common(1)[0][1] for members in by_label.values()) / n
    same_cluster = sum(len(m) * (len(m) - 1) // 2 for m in groups)
    same_label = sum(len(m) * (len(m) - 1) // 2 for m in by_label.values())
    both = sum(c * (c - 1) // 2 for members in groups for c in Counter(labels[i] for i in members).values())
    precision = both / same_cluster if same_cluster else 1.0
    recall = both / same_label if same_label else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"purity": round(purity, 4), "inverse_purity": round(inverse, 4), "pair_precision": round(precision, 4),
            "pair_recall": round(recall, 4), "pair_f1": round(f1, 4), "clusters": len(groups),
            "true_groups": len(by_label), "questions": n,
            "singletons": sum(1 for m in groups if len(m) == 1)}


def evaluate(vectors: np.ndarray, labels: list[str], method: str, threshold: float) -> dict[str, float]:
    return scores(cluster_vectors(vectors, threshold, method), labels)


def tune_and_test(name: str, rows: list[tuple[str, str]], vectors: np.ndarray, seed: int,
                  methods: tuple[str, ...]) -> dict:
    dev, test = split(rows, seed)
    labels = [label for _, label in rows]
    results: dict = {"dataset": name, "dev_questions": len(dev), "test_questions": len(test), "methods": {}}
    for method in methods:
        grid = []
        for threshold in tqdm(GRID, desc=f"{name} {method} (dev)", unit="threshold", leave=False):
            grid.append((evaluate(vectors[dev], [labels[i] for i in dev], method, threshold), threshold))
        best_dev, best = max(grid, key=lambda g: (g[0]["pair_f1"], g[0]["purity"]))
        results["methods"][method] = {
            "threshold": best, "dev": best_dev,
            "test": evaluate(vectors[test], [labels[i] for i in test], method, best),
            **{f"test_at_{t}": evaluate(vectors[test], [labels[i] for i in test], method, t) for t in FIXED},
        }
    return results


def product_setting(sets: dict[str, list[tuple[str, str]]], vectors: dict[str, np.ndarray], seed: int) -> dict:
    """The settings the product uses: the threshold best on the DEV half of the monolingual paraphrases (mixed),
    then the cross-language bonus best on the DEV half of the cross-language pairs (kb) at that threshold;
    TEST figures of every sample with and without the bonus."""
    from retrieval.langdetect import detect_language

    def parts(name: str, half: int) -> tuple[np.ndarray, list[str], list[str]]:
        rows = sets[name]
        index = split(rows, seed)[half]
        texts = [rows[i][0] for i in index]
        return (np.stack([vectors[t] for t in texts]), [rows[i][1] for i in index],
                [detect_language(t, "pt") for t in texts])

    vec, labels, _ = parts("mixed", 0)
    threshold = max(GRID, key=lambda t: scores(cluster_vectors(vec, t), labels)["pair_f1"])
    vec, labels, langs = parts("kb", 0)
    bonus = max(tqdm(BONUS_GRID, desc="cross-language bonus (dev)", unit="value", leave=False),
                key=lambda b: scores(cluster_vectors(vec, threshold, langs=langs, cross_language_bonus=b),
                                     labels)["pair_f1"])
    out: dict = {"threshold": threshold, "cross_language_bonus": bonus, "test": {}}
    for name in sets:
        vec, labels, langs = parts(name, 1)
        out["test"][name] = {
            "with_bonus": scores(cluster_vectors(vec, threshold, langs=langs, cross_language_bonus=bonus), labels),
            "without": scores(cluster_vectors(vec, threshold), labels)}
        w, wo = out["test"][name]["with_bonus"], out["test"][name]["without"]
        print(f"product {name:9s} t={threshold:.2f} bonus={bonus:.2f}: purity {w['purity']:.3f} "
              f"pair-F1 {w['pair_f1']:.3f} clusters {w['clusters']}/{w['true_groups']} "
              f"(no bonus: purity {wo['purity']:.3f} pair-F1 {wo['pair_f1']:.3f} clusters {wo['clusters']})")
    return out


def embed(texts: list[str], batch: int = 64) -> np.ndarray:
    from retrieval.config import load_settings
    from retrieval.index import make_encoders

    encoder = make_encoders(load_settings())["default"]
    out = []
    for start in tqdm(range(0, len(texts), batch), desc="embedding", unit="batch"):
        out.append(np.asarray(encoder.encode_queries(texts[start:start + batch]), dtype=np.float32))
    return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="*", default=list(BUILTIN), choices=BUILTIN,
                        help="built-in labelled samples (default: all)")
    parser.add_argument("--csv", nargs="*", type=Path, default=[], help="more samples: CSV files with text,label")
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS,
                        help="linkages to compare (the product uses 'average')")
    parser.add_argument("--seed", type=int, default=13, help="seed of the DEV/TEST split of the labels")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)

    sets: dict[str, list[tuple[str, str]]] = {}
    if {"faquad", "mixed", "all"} & set(args.datasets):
        sets["faquad"] = load_faquad()
    if {"stackfaq", "mixed", "all"} & set(args.datasets):
        sets["stackfaq"] = load_stackfaq()
    if "bot" in args.datasets:
        sets["bot"] = load_bot()
    if {"kb", "all"} & set(args.datasets):
        sets["kb"] = load_kb()
    for path in args.csv:
        sets[path.stem] = load_csv(path)
    texts = sorted({t for rows in sets.values() for t, _ in rows})
    started = time.monotonic()
    vectors = dict(zip(texts, embed(texts), strict=True))
    embed_seconds = time.monotonic() - started
    if "mixed" in args.datasets:
        sets["mixed"] = sets["faquad"] + sets["stackfaq"]
    if "all" in args.datasets:
        sets["all"] = sets["faquad"] + sets["stackfaq"] + sets["kb"]
    wanted = [n for n in sets if n in args.datasets or n not in BUILTIN]
    report = {"machine": {"cpu": cpu_model(), "cores": os.cpu_count()}, "date": time.strftime("%Y-%m-%d"),
              "embed_seconds": round(embed_seconds, 1), "texts": len(texts), "results": []}
    for name in wanted:
        rows = sets[name]
        matrix = np.stack([vectors[t] for t, _ in rows])
        started = time.monotonic()
        result = tune_and_test(name, rows, matrix, args.seed, tuple(args.methods))
        result["seconds"] = round(time.monotonic() - started, 1)
        report["results"].append(result)
        for method, figures in result["methods"].items():
            t = figures["test"]
            print(f"{name:9s} {method:8s} threshold {figures['threshold']:.2f}  test: purity {t['purity']:.3f} "
                  f"inverse {t['inverse_purity']:.3f} pair-F1 {t['pair_f1']:.3f} "
                  f"clusters {t['clusters']} / {t['true_groups']} groups ({t['questions']} questions)")
    if {"mixed", "kb"} <= set(sets):
        report["product"] = product_setting(sets, vectors, args.seed)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
