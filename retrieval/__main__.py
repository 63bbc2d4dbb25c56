"""Command line for the knowledge-base index.

  python -m retrieval ingest [--full]        build or update .data/index from kb_articles/
  python -m retrieval search "texto" [--lang pt|en|auto] [-k 5] [--json]
  python -m retrieval stats                  what the live index holds
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before numpy/faiss/torch are imported

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from retrieval.config import load_settings

    over = {}
    if args.articles:
        over["articles_dir"] = str(Path(args.articles).resolve())
    if args.index_dir:
        over["index_dir"] = str(Path(args.index_dir).resolve())
    return load_settings(args.config, **over)


def cmd_ingest(args: argparse.Namespace) -> int:
    from retrieval.service import ingest

    settings = _settings(args)
    result, _ = ingest(settings, full=args.full, progress=not args.quiet)
    s = result.stats
    print(f"index {result.index_dir.name}: {s['articles']} articles, {s['passages']} passages, "
          f"{s['passages_embedded']} passage embeddings computed (unchanged articles reused theirs), "
          f"{s['articles_deleted']} deleted, "
          f"{s['build_seconds']} s")
    for path, msg in result.warnings.items():
        print(f"warning: {path}: {msg}", file=sys.stderr)
    for msg in result.errors.values():
        print(f"skipped: {msg}", file=sys.stderr)
    return 1 if result.errors and args.strict else 0


def cmd_search(args: argparse.Namespace) -> int:
    from retrieval.service import create_search_state

    if not args.query.strip() or len(args.query) > 500:
        print("error: the query must have 1 to 500 characters", file=sys.stderr)
        return 2
    if not 1 <= args.k <= 20:
        print("error: -k must be between 1 and 20", file=sys.stderr)
        return 2
    state = create_search_state(_settings(args), build_if_missing=False)
    res = state.searcher.search(args.query, lang=args.lang, k=args.k)
    if args.json:
        from retrieval.api import to_response

        print(json.dumps(to_response(res).model_dump(), ensure_ascii=False, indent=1))
        return 0
    verdict = "answerable" if res.answerable else "NOT answerable"
    print(f"[{res.lang}] {verdict} (p={res.probability:.2f}); results in {res.results_lang}"
          f"{' (fallback)' if res.fallback else ''}")
    for i, h in enumerate(res.hits, 1):
        p = h.passage
        print(f"{i}. {h.score:.3f}  {p.title} › {p.heading}  {p.url}\n     {p.text[:160]!r}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from retrieval.index import current_dir

    settings = _settings(args)
    d = current_dir(settings.index_dir)
    if d is None:
        print(f"no index in {settings.index_dir} (run: python -m retrieval ingest)")
        return 1
    m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    langs: dict[str, int] = {}
    for a in m["articles"].values():
        langs[a["lang"]] = langs.get(a["lang"], 0) + 1
    size = sum(f.stat().st_size for f in d.iterdir())
    print(f"version {d.name}, created {m['created']}, {size / 1e6:.1f} MB on disk")
    print(f"articles: {len(m['articles'])} ({', '.join(f'{k}: {v}' for k, v in sorted(langs.items()))}), "
          f"passages: {m['stats']['passages']}, skipped files: {len(m.get('errors', {}))}")
    for key, e in m["encoders"].items():
        print(f"encoder {key}: {e['name']} {e['version']} dim {e['dim']} languages {e['languages'] or 'all'}")
    for k, t in m["index_types"].items():
        print(f"dense index {k}: {t}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m retrieval", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="settings file (default: retrieval/retrieval.yml or $RETRIEVAL_CONFIG)")
    ap.add_argument("--articles", help="articles folder (default: articles_dir in the settings)")
    ap.add_argument("--index-dir", help="index folder (default: index_dir in the settings)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="{ingest,search,stats}")
    p = sub.add_parser("ingest", help="build or update the index (only new/changed articles are embedded)")
    p.add_argument("--full", action="store_true", help="re-embed everything (needed after an encoder change)")
    p.add_argument("--strict", action="store_true", help="exit 1 when any article file was skipped")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("search", help="search the live index")
    p.add_argument("query")
    p.add_argument("--lang", default="auto", choices=["pt", "en", "auto"])
    p.add_argument("-k", type=int, default=5, help="number of passages (1-20)")
    p.add_argument("--json", action="store_true", help="print the API's JSON")
    p.set_defaults(func=cmd_search)
    p = sub.add_parser("stats", help="describe the live index")
    p.set_defaults(func=cmd_stats)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    from retrieval.index import EncoderMismatchError, IndexNotFoundError

    try:
        return args.func(args)
    except (EncoderMismatchError, IndexNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
