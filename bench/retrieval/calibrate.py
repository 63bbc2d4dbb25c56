"""Fit the answerable/not-answerable calibration (retrieval/calibration.json).

python -m bench.retrieval.calibrate [--data-dir .data/bench] [--out retrieval/calibration.json]

Data: StackFAQ (en) and FAQuAD (pt) converted by bench.retrieval.convert, indexed together.
For every query: a positive (its relevant document is in the index) and a negative (the same query
with its relevant documents hidden, i.e. a question the knowledge base does not answer); for the
multilingual encoder also cross-language negatives (a query against the other data set's passages).
When converted, the cross-language help-center sets (kbx) add questions answered only in the other
language, sampled in the answer's language.
A logistic regression per dense encoder is fitted on the DEV split and evaluated on the TEST split.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from bench.retrieval.core import build_searcher, read_jsonl  # noqa: E402
from retrieval.calibration import FEATURES  # noqa: E402
from retrieval.config import load_settings  # noqa: E402
from retrieval.search import Searcher  # noqa: E402

DATASETS = ("stackfaq", "faquad")
# cross-language sets (bench.retrieval.convert kbx): questions whose answer exists only in the other language
CROSS = ("kbx_pt_en", "kbx_en_pt")


def samples(searcher: Searcher, queries: list[dict], routes: bool, desc: str) -> list[tuple[str, list[float], int]]:
    """(encoder name, features, label) for each query: positive, hidden-relevant negative, cross-language negative.

    A query of a cross-language set (``q["target"]`` = the language of its answer) is sampled in the answer's
    language: positive with the answer present, negative with it hidden. Without such positives the model
    would learn "other language = not answerable", and the product's cross-language fallback would never fire.
    """
    out = []
    if not routes:
        searcher.settings = searcher.settings.with_overrides(query_routes={})
    for q in tqdm(queries, desc=desc, unit="query"):
        lang = q["lang"]
        target = q.get("target", lang)
        rel = {f"{target}/{d}" for d in q["relevant"]}
        other = "en" if lang == "pt" else "pt"
        groups = [(target, None, 1), (target, rel, 0)]
        if target == lang and not routes:  # cross-language groups always use the default encoder
            groups.append((other, None, 0))
        for group, exclude, label in groups:
            g = searcher.score_group(q["query"], lang, group, "hybrid", exclude=exclude)
            if g is not None:
                out.append((searcher.encoders[g.encoder].name, [g.features[f] for f in FEATURES], label,
                            "cross" if target != lang else "same"))
    return out


def fit_eval(train: list, test: list) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, brier_score_loss, precision_score, recall_score, roc_auc_score

    models = {}
    for name in sorted({s[0] for s in train}):
        x = np.array([s[1] for s in train if s[0] == name])
        y = np.array([s[2] for s in train if s[0] == name])
        clf = LogisticRegression(C=10.0, max_iter=1000).fit(x, y)
        xt = np.array([s[1] for s in test if s[0] == name])
        yt = np.array([s[2] for s in test if s[0] == name])
        p = clf.predict_proba(xt)[:, 1]
        kinds = np.array([s[3] for s in test if s[0] == name])
        by_kind = {k: {"n": int((kinds == k).sum()), "positives": int(yt[kinds == k].sum()),
                       "auc": round(float(roc_auc_score(yt[kinds == k], p[kinds == k])), 4)}
                   for k in sorted(set(kinds.tolist())) if len(set(yt[kinds == k].tolist())) == 2}
        bins = np.clip((p * 5).astype(int), 0, 4)
        reliability = [{"bin": f"{b / 5:.1f}-{(b + 1) / 5:.1f}", "n": int((bins == b).sum()),
                        "mean_p": round(float(p[bins == b].mean()), 3) if (bins == b).any() else None,
                        "positive_rate": round(float(yt[bins == b].mean()), 3) if (bins == b).any() else None}
                       for b in range(5)]
        models[name] = {
            "features": list(FEATURES), "coef": [round(float(c), 5) for c in clf.coef_[0]],
            "intercept": round(float(clf.intercept_[0]), 5), "n_train": int(len(y)),
            "test": {"n": int(len(yt)), "positives": int(yt.sum()), "auc": round(float(roc_auc_score(yt, p)), 4),
                     "by_kind": by_kind,
                     "accuracy_at_0.5": round(float(accuracy_score(yt, p >= 0.5)), 4),
                     "precision_at_0.5": round(float(precision_score(yt, p >= 0.5)), 4),
                     "recall_at_0.5": round(float(recall_score(yt, p >= 0.5)), 4),
                     "brier": round(float(brier_score_loss(yt, p)), 4), "reliability": reliability,
                     "thresholds": [{"t": t, "precision": round(float(precision_score(yt, p >= t, zero_division=0)), 4),
                                     "recall": round(float(recall_score(yt, p >= t)), 4),
                                     "false_answer_rate": round(float(((p >= t) & (yt == 0)).sum() / max(1, (yt == 0).sum())), 4)}
                                    for t in (0.3, 0.4, 0.5, 0.6, 0.7)]},
        }
    return models


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.retrieval.calibrate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path(".data/bench"))
    ap.add_argument("--out", type=Path, default=Path("retrieval/calibration.json"))
    ap.add_argument("--no-cross", dest="cross", action="store_false",
                    help="leave out the cross-language sets (kbx_pt_en, kbx_en_pt) even when converted")
    args = ap.parse_args(argv)
    settings = load_settings()
    cross = [ds for ds in CROSS if (args.data_dir / ds / "corpus.jsonl").exists()] if args.cross else []
    corpus = [d for ds in (*DATASETS, *cross) for d in read_jsonl(args.data_dir / ds / "corpus.jsonl")]
    split = {s: [q for ds in DATASETS for q in read_jsonl(args.data_dir / ds / f"queries_{s}.jsonl")]
             for s in ("dev", "test")}
    for ds in cross:
        target = read_jsonl(args.data_dir / ds / "corpus.jsonl")[0]["lang"]
        for s in split:
            split[s] += [dict(q, target=target) for q in read_jsonl(args.data_dir / ds / f"queries_{s}.jsonl")]
    data = {}
    for s, qs in split.items():
        rows = []
        for routes in (True, False):
            searcher, _ = build_searcher(settings, corpus, progress=False, cache_dir=args.data_dir / "cache",
                                         cache_queries=True)
            subset = qs if not routes else [q for q in qs if q["lang"] in settings["query_routes"]
                                            and q.get("target", q["lang"]) == q["lang"]]
            rows += samples(searcher, subset, routes, f"{s} ({'routed' if routes else 'default encoder'})")
        data[s] = rows
    models = fit_eval(data["dev"], data["test"])
    out = {"fitted": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "how": "python -m bench.retrieval.calibrate; see docs/benchmarks.md (Retrieval, answerable)",
           "data": "StackFAQ + FAQuAD dev split" + (" + help-center cross-language titles (kbx)" if cross else "")
                   + "; negatives = relevant documents hidden, and other-language corpus",
           "fusion": settings["fusion"], "lexical": settings["lexical"], "models": models}
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, m in models.items():
        print(name, json.dumps({k: v for k, v in m.items() if k != "test"}),
              json.dumps({k: v for k, v in m["test"].items() if k not in ("reliability", "thresholds")}))
        for row in m["test"]["thresholds"]:
            print("   ", json.dumps(row))
    print(f"→ {args.out}")


if __name__ == "__main__":
    main()
