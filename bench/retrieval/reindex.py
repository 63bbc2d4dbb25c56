"""How long re-indexing takes after one article changes (target: ≤ 2 s).

python -m bench.retrieval.reindex [--articles kb_articles] [--out .data/bench/out/reindex.json]

Copies the articles to a temporary folder, builds a full index there, edits one article, then times
the incremental ingest (load previous index, re-embed the changed article, rebuild BM25 and FAISS,
write a new version, swap CURRENT), and an unchanged re-ingest.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from retrieval.config import REPO_ROOT, load_settings  # noqa: E402
from retrieval.index import make_encoders  # noqa: E402
from retrieval.service import ingest  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.retrieval.reindex", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=Path, default=REPO_ROOT / "kb_articles")
    ap.add_argument("--out", type=Path, default=Path(".data/bench/out/reindex.json"))
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="reindex-"))
    try:
        kb = tmp / "kb"
        shutil.copytree(args.articles, kb)
        settings = load_settings(None, articles_dir=str(kb), index_dir=str(tmp / "index"))
        encoders = make_encoders(settings)
        t0 = time.perf_counter()
        full, _ = ingest(settings, encoders, full=True, progress=True)
        full_s = time.perf_counter() - t0
        target = sorted(kb.rglob("*.md"))[-1]
        target.write_text(target.read_text(encoding="utf-8") + "\n\nAtualização: novo parágrafo de teste.\n",
                          encoding="utf-8")
        t1 = time.perf_counter()
        incr, _ = ingest(settings, encoders, progress=False)
        incr_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        same, _ = ingest(settings, encoders, progress=False)
        same_s = time.perf_counter() - t2
        out = {"articles": full.stats["articles"], "passages": full.stats["passages"],
               "full_build_seconds": round(full_s, 2), "one_article_changed_seconds": round(incr_s, 2),
               "one_article_changed_embedded": incr.stats["passages_embedded"],
               "unchanged_reingest_seconds": round(same_s, 2), "changed_file": str(target.relative_to(kb))}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
