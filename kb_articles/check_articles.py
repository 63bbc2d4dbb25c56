"""Validate the help-center articles in ``kb_articles/``.

Why this exists: the retrieval index, the help-center pages and the bot's article links all trust the
front matter of these Markdown files. A typo in an ``id`` or a translation that points nowhere would
only show up as a broken link in front of a customer, so this script catches it before a commit.

Run it from the repository root::

    python kb_articles/check_articles.py            # checks kb_articles/ next to this file
    python kb_articles/check_articles.py some/dir   # checks another folder with pt/ and en/

Drafts (front matter ``status: draft``) are checked field by field too, but may lack a translation; a
published article may neither pair with nor link to a draft, since customers cannot see drafts.

It also checks what a reader would trip over: a translation with a different number of ``## `` sections
(the two languages must keep the same structure) and links to ``/help/{lang}/{id}`` that lead nowhere.

Exit status 0 when everything is valid, 1 when problems were found (each one printed on its own line),
2 for a bad command line.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Run as a script (python kb_articles/check_articles.py), this folder is on sys.path, not the repository root
# that holds the shared parser.
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from textnorm.frontmatter import (  # noqa: E402
    DRAFT,
    EDITORIAL_FIELDS,
    LANGS,
    REQUIRED_FIELDS,
    FrontMatterError,
    decode_article,
    field_problems,
    missing_fields,
    split_front_matter,
    status_of,
)

# The validator requires what serving needs plus the fields editors must keep up to date.
ALL_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + EDITORIAL_FIELDS
# A draft (status: draft) is a lead's work in progress, in one language or both: it may have no translation yet.
DRAFT_FIELDS: tuple[str, ...] = tuple(f for f in ALL_FIELDS if f != "translation")
# Intent names from docs/architecture.md; an article may only claim intents the bot really has.
KNOWN_INTENTS: frozenset[str] = frozenset(
    {
        "greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "out_of_scope",
        "request_human", "inform", "complain",
        "order_status", "delivery_problem", "cancel_order", "payment_methods", "payment_failed",
        "invoice_request", "return_product", "exchange_product", "refund_status", "right_of_withdrawal",
        "warranty", "update_account", "pre_sale_question", "shipping_cost",
        "app_login_problem", "password_reset", "device_setup", "device_pairing",
        "device_not_turning_on", "device_connection_problem", "device_not_charging", "software_update",
    }
)
SECTION_RE = re.compile(r"^## ", re.MULTILINE)
# Links between articles use the help-center URL from docs/architecture.md: /help/{lang}/{article_id}.
HELP_LINK_RE = re.compile(r"\]\(/help/([a-z]{2})/([^)\s#?]+)[^)]*\)")


@dataclass
class Article:
    """One parsed article: its file, its front matter and its Markdown body."""

    path: Path
    meta: dict
    body: str

    @property
    def is_draft(self) -> bool:
        return status_of(self.meta) == DRAFT


@dataclass
class Report:
    """Problems found, plus the articles that parsed well enough for cross-file checks."""

    problems: list[str] = field(default_factory=list)
    articles: dict[str, dict[str, Article]] = field(default_factory=lambda: {lang: {} for lang in LANGS})

    def add(self, path: Path | str, message: str) -> None:
        self.problems.append(f"{path}: {message}")


def parse_article(path: Path, report: Report) -> Article | None:
    """Read one file and split it into front matter and body; record a problem and return None on failure.

    The shared parser repairs invalid UTF-8 so one bad byte does not take an article off the site; here
    that repair is a problem to fix before the commit.
    """
    try:
        decoded = decode_article(path.read_bytes(), path)
        if decoded.warning:
            report.add(path, f"not valid UTF-8: {decoded.warning}")
            return None
        front = split_front_matter(decoded.text, path)
    except FrontMatterError as exc:
        report.add(path, exc.problem)
        return None
    return Article(path=path, meta=front.meta, body=front.body)


def check_fields(article: Article, lang_folder: str, report: Report) -> bool:
    """Check one article's own fields; return True when id/lang/translation are usable for cross-checks."""
    meta, path = article.meta, article.path
    required = DRAFT_FIELDS if article.is_draft else ALL_FIELDS
    problems = field_problems(meta, required=required)
    for problem in problems.values():
        report.add(path, problem)
    if "id" not in problems and meta["id"] != path.stem:
        report.add(path, f"id '{meta['id']}' differs from the file name '{path.stem}'")
    if "lang" not in problems and meta["lang"] != lang_folder:
        report.add(path, f"lang '{meta['lang']}' does not match its folder '{lang_folder}'")
    if "intents" not in problems:
        for intent in meta.get("intents") or []:
            if intent not in KNOWN_INTENTS:
                report.add(path, f"unknown intent '{intent}' (see docs/architecture.md)")
    if not article.body.strip():
        report.add(path, "body is empty")
    # Other field problems are reported but do not hide the article from the translation and link checks.
    return not missing_fields(meta, required) and not {"id", "translation", "status"} & problems.keys()


def check_pairs(report: Report) -> None:
    """Every published article must name an existing, published translation in the other language that names
    it back. Drafts are exempt: a lead drafts one language first; publishing needs both (see below)."""
    for lang in LANGS:
        other = LANGS[1] if lang == LANGS[0] else LANGS[0]
        for art_id, article in sorted(report.articles[lang].items()):
            if article.is_draft:
                continue
            target_id = article.meta["translation"]
            target = report.articles[other].get(target_id)
            if target is None:
                report.add(article.path, f"translation '{target_id}' not found in {other}/")
                continue
            if target.is_draft:
                report.add(article.path, f"translation '{target_id}' is a draft; publish both languages together")
                continue
            if target.meta.get("translation") != art_id:
                report.add(
                    article.path,
                    f"translation '{target_id}' points back to '{target.meta.get('translation')}', not '{art_id}'",
                )
            if lang == LANGS[0]:
                if target.meta.get("category") != article.meta.get("category"):
                    report.add(article.path, f"category differs from its translation '{target_id}'")
                mine, theirs = len(SECTION_RE.findall(article.body)), len(SECTION_RE.findall(target.body))
                if mine != theirs:
                    report.add(
                        article.path,
                        f"has {mine} '## ' sections but its translation '{target_id}' has {theirs}",
                    )


def check_links(report: Report) -> None:
    """Links to /help/{lang}/{id} must name an article that exists, in the same language as the page."""
    for lang in LANGS:
        for article in report.articles[lang].values():
            for link_lang, target in HELP_LINK_RE.findall(article.body):
                linked = report.articles.get(link_lang, {}).get(target)
                if link_lang != lang:
                    report.add(article.path, f"link /help/{link_lang}/{target} points to the other language")
                elif linked is None:
                    report.add(article.path, f"link /help/{link_lang}/{target} points to no article")
                elif linked.is_draft and not article.is_draft:
                    report.add(article.path, f"link /help/{link_lang}/{target} points to a draft (customers cannot open it)")


def check_folder(root: Path) -> list[str]:
    """Check every article under ``root/pt`` and ``root/en``; return the list of problems (empty = valid)."""
    report = Report()
    root = Path(root)
    if not root.is_dir():
        return [f"{root}: not a folder"]
    seen_ids: dict[str, Path] = {}
    for lang in LANGS:
        folder = root / lang
        if not folder.is_dir():
            report.add(folder, "language folder is missing")
            continue
        stray = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix != ".md")
        for name in stray:
            report.add(folder / name, "not a .md file")
        files = sorted(folder.glob("*.md"))
        if not files:
            report.add(folder, "no articles")
        for path in files:
            article = parse_article(path, report)
            if article is None:
                continue
            if not check_fields(article, lang, report):
                continue
            art_id = article.meta["id"]
            if art_id in seen_ids:
                report.add(path, f"duplicate id '{art_id}' (also in {seen_ids[art_id]})")
                continue
            seen_ids[art_id] = path
            report.articles[lang][art_id] = article
    check_pairs(report)
    check_links(report)
    return report.problems


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print problems and return the exit status."""
    parser = argparse.ArgumentParser(
        description=(
            "Check the help-center articles: front matter fields, id == file name, lang == folder, "
            "category, translations that exist and point back, no duplicate ids, non-empty bodies, "
            "the same number of '## ' sections as the translation, links to /help/{lang}/{id} that exist."
        ),
        epilog="Exit status: 0 valid, 1 problems found (listed one per line).",
    )
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="folder holding pt/ and en/ (default: the kb_articles folder of this script)",
    )
    args = parser.parse_args(argv)
    problems = check_folder(args.folder)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} problem(s) found in {args.folder}", file=sys.stderr)
        return 1
    counts = {lang: len(list((args.folder / lang).glob("*.md"))) for lang in LANGS}
    print(f"OK: {counts['pt']} pt + {counts['en']} en articles in {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
