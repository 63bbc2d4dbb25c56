"""Convert public data sets into the benchmark's JSONL files.

``python -m bench.retrieval.convert stackfaq --src /work/shared/datasets/stackfaq --out-dir .data/bench/stackfaq``
``python -m bench.retrieval.convert faquad --src /work/shared/datasets/faquad_ptbr --out-dir .data/bench/faquad``
``python -m bench.retrieval.convert kbx --src kb_articles --out-dir .data/bench/kbx_pt_en --query-lang pt``
``python -m bench.retrieval.convert kbx --src kb_articles --out-dir .data/bench/kbx_en_pt --query-lang en``

Writes ``corpus.jsonl`` ({"id","title","text","lang"}), ``queries.jsonl`` ({"id","query","lang","relevant"})
and a fixed split of the queries into ``queries_dev.jsonl`` (30 %, for tuning) and ``queries_test.jsonl``
(70 %, for reporting), chosen by a hash of the query id so it never changes between runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path


def is_dev(query_id: str, dev_share: float = 0.3) -> bool:
    """Deterministic split: the same query is always in the same half."""
    h = int(hashlib.sha1(query_id.encode()).hexdigest()[:8], 16)
    return (h % 1000) < dev_share * 1000


def stackfaq(src: Path) -> tuple[list[dict], list[dict]]:
    """One document per FAQ thread (title = question, text = its answers); each paraphrase is a query."""
    data = json.loads((src / "stackExchange-FAQ.json").read_text(encoding="utf-8"))["root"]["qapair"]
    corpus, queries = [], []
    for i, qa in enumerate(data):
        answers = qa.get("answer") or []
        answers = [answers] if isinstance(answers, str) else answers
        doc_id = f"sfaq-{i:04d}"
        corpus.append({"id": doc_id, "title": qa["question"].strip(),
                       "text": "\n\n".join(a.strip() for a in answers if a and a.strip()), "lang": "en"})
        rephr = qa.get("rephr") or []
        rephr = [rephr] if isinstance(rephr, str) else rephr
        for j, r in enumerate(rephr):
            # the data holds placeholders like "*" where an annotator gave no paraphrase
            if not r or len(re.findall(r"\w+", r)) < 2:
                continue
            queries.append({"id": f"{doc_id}-q{j:02d}", "query": r.strip(), "lang": "en", "relevant": [doc_id]})
    return corpus, queries


def faquad(src: Path) -> tuple[list[dict], list[dict]]:
    """One document per paragraph (title = its article's name); each question → its paragraph."""
    data = json.loads((src / "dataset.json").read_text(encoding="utf-8"))["data"]
    corpus, queries = [], []
    for a, art in enumerate(data):
        title = art["title"].replace("_", " ").strip().capitalize()
        for p, par in enumerate(art["paragraphs"]):
            doc_id = f"faquad-{a:02d}-{p:03d}"
            corpus.append({"id": doc_id, "title": title, "text": par["context"].strip(), "lang": "pt"})
            for q in par["qas"]:
                if q["question"].strip():
                    queries.append({"id": f"{doc_id}-{q['id']}", "query": q["question"].strip(), "lang": "pt",
                                    "relevant": [doc_id]})
    return corpus, queries


def kbx(src: Path, query_lang: str) -> tuple[list[dict], list[dict]]:
    """Cross-language: the help center's titles and section headings in ``query_lang`` as questions, over
    the OTHER language's articles only (each relevant = the translation of the article they come from).

    This is the case of a customer whose language has no article: the multilingual encoder must still find
    the other language's one (a ranking inside the query's language alone scores 0 here).
    """
    from retrieval.ingest import load_articles, markdown_sections

    arts = load_articles(src).articles
    other = "en" if query_lang == "pt" else "pt"
    targets = {a.id: a for a in arts if a.lang == other}
    corpus = [{"id": a.id, "title": a.title, "lang": other,
               "text": "\n".join(t for _, t in markdown_sections(a.body))} for a in targets.values()]
    heads: dict[str, list[str]] = {}
    for a in arts:
        if a.lang == query_lang:
            heads[a.id] = [p[-1] for p, _ in markdown_sections(a.body) if p and len(p[-1].split()) >= 3
                           and p[-1].strip().lower() != a.title.lower()]
    # a heading that several articles share ("Still need help?") names no article: not a question
    shared = {h for h in set().union(*heads.values()) if sum(h in hs for hs in heads.values()) > 1} if heads else set()
    queries = []
    for a in arts:
        if a.lang != query_lang or a.translation not in targets:
            continue
        asks = [a.title] + [h for h in heads[a.id] if h not in shared]
        for j, q in enumerate(dict.fromkeys(asks)):
            queries.append({"id": f"{a.id}-{j:02d}", "query": q, "lang": query_lang, "relevant": [a.translation]})
    return corpus, queries


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.retrieval.convert", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset", choices=["stackfaq", "faquad", "kbx"])
    ap.add_argument("--src", required=True, type=Path, help="data set folder (see /work/shared/datasets)")
    ap.add_argument("--out-dir", required=True, type=Path)
    ap.add_argument("--query-lang", choices=["pt", "en"], default="pt", help="kbx: language of the questions")
    args = ap.parse_args(argv)
    if args.dataset == "kbx":
        corpus, queries = kbx(args.src, args.query_lang)
    else:
        corpus, queries = (stackfaq if args.dataset == "stackfaq" else faquad)(args.src)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(args.out_dir / "corpus.jsonl", corpus)
    write_jsonl(args.out_dir / "queries.jsonl", queries)
    write_jsonl(args.out_dir / "queries_dev.jsonl", [q for q in queries if is_dev(q["id"])])
    write_jsonl(args.out_dir / "queries_test.jsonl", [q for q in queries if not is_dev(q["id"])])
    n_dev = sum(is_dev(q["id"]) for q in queries)
    print(f"{args.dataset}: {len(corpus)} documents, {len(queries)} queries ({n_dev} dev, "
          f"{len(queries) - n_dev} test) → {args.out_dir}")


if __name__ == "__main__":
    main()
