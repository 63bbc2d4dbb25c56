"""Validate the help-center articles in ``kb_articles/``.

Why this exists: the retrieval index, the help-center pages and the bot's article links all trust the
front matter of these Markdown files. A typo in an ``id`` or a translation that points nowhere would
only show up as a broken link in front of a customer, so this script catches it before a commit.

Run it from the repository root::

    python kb_articles/check_articles.py            # checks kb_articles/ next to this file
    python kb_articles/check_articles.py some/dir   # checks another folder with pt/ and en/

It also checks what a reader would trip over: a translation with a different number of ``## `` sections
(the two languages must keep the same structure) and links to ``/help/{lang}/{id}`` that lead nowhere.

Exit status 0 when everything is valid, 1 when problems were found (each one printed on its own line),
2 for a bad command line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

LANGS: tuple[str, ...] = ("pt", "en")
CATEGORIES: frozenset[str] = frozenset({"service", "support"})
REQUIRED_FIELDS: tuple[str, ...] = ("id", "title", "lang", "category", "tags", "updated", "translation")
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
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.DOTALL)
SECTION_RE = re.compile(r"^## ", re.MULTILINE)
# Links between articles use the help-center URL from docs/architecture.md: /help/{lang}/{article_id}.
HELP_LINK_RE = re.compile(r"\]\(/help/([a-z]{2})/([^)\s#?]+)[^)]*\)")
MAX_FILE_BYTES = 200_000


@dataclass
class Article:
    """One parsed article: its file, its front matter and its Markdown body."""

    path: Path
    meta: dict
    body: str


@dataclass
class Report:
    """Problems found, plus the articles that parsed well enough for cross-file checks."""

    problems: list[str] = field(default_factory=list)
    articles: dict[str, dict[str, Article]] = field(default_factory=lambda: {lang: {} for lang in LANGS})

    def add(self, path: Path | str, message: str) -> None:
        self.problems.append(f"{path}: {message}")


def parse_article(path: Path, report: Report) -> Article | None:
    """Read one file and split it into front matter and body; record a problem and return None on failure."""
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        report.add(path, f"file is {len(raw)} bytes, more than {MAX_FILE_BYTES}")
        return None
    if b"\x00" in raw:
        report.add(path, "binary file (contains NUL bytes)")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.add(path, f"not valid UTF-8 ({exc.reason} at byte {exc.start})")
        return None
    text = text.lstrip("\ufeff")
    match = FRONT_MATTER_RE.match(text)
    if not match:
        report.add(path, "missing front matter (the file must start with a line '---' and close it with '---')")
        return None
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        report.add(path, f"front matter is not valid YAML: {str(exc).splitlines()[0]}")
        return None
    if not isinstance(meta, dict):
        report.add(path, "front matter must be a YAML mapping (key: value lines)")
        return None
    return Article(path=path, meta=meta, body=match.group(2))


def check_fields(article: Article, lang_folder: str, report: Report) -> bool:
    """Check one article's own fields; return True when id/lang/translation are usable for cross-checks."""
    meta, path = article.meta, article.path
    missing = [name for name in REQUIRED_FIELDS if meta.get(name) in (None, "", [])]
    for name in missing:
        report.add(path, f"missing or empty field '{name}'")
    usable = True
    art_id = meta.get("id")
    if not isinstance(art_id, str) or not ID_RE.match(art_id):
        if "id" not in missing:
            report.add(path, f"id {art_id!r} is not kebab-case (lowercase letters, digits and hyphens)")
        usable = False
    elif art_id != path.stem:
        report.add(path, f"id '{art_id}' differs from the file name '{path.stem}'")
    if meta.get("lang") != lang_folder and "lang" not in missing:
        report.add(path, f"lang '{meta.get('lang')}' does not match its folder '{lang_folder}'")
    if "category" not in missing and meta.get("category") not in CATEGORIES:
        report.add(path, f"category '{meta.get('category')}' is not one of {sorted(CATEGORIES)}")
    if "title" not in missing and not isinstance(meta.get("title"), str):
        report.add(path, "title must be text")
    tags = meta.get("tags")
    if "tags" not in missing and (not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags)):
        report.add(path, "tags must be a list of words, e.g. [pedido, entrega]")
    updated = meta.get("updated")
    if "updated" not in missing and not isinstance(updated, dt.date):
        report.add(path, f"updated {updated!r} is not a date in the form YYYY-MM-DD")
    translation = meta.get("translation")
    if "translation" not in missing and (not isinstance(translation, str) or not ID_RE.match(translation)):
        report.add(path, f"translation {translation!r} is not a kebab-case article id")
        usable = False
    intents = meta.get("intents")
    if intents is not None:
        if not isinstance(intents, list) or not all(isinstance(i, str) for i in intents):
            report.add(path, "intents must be a list of intent names")
        else:
            for intent in intents:
                if intent not in KNOWN_INTENTS:
                    report.add(path, f"unknown intent '{intent}' (see docs/architecture.md)")
    if not article.body.strip():
        report.add(path, "body is empty")
    return usable and not missing


def check_pairs(report: Report) -> None:
    """Every article must name an existing translation in the other language that names it back."""
    for lang in LANGS:
        other = LANGS[1] if lang == LANGS[0] else LANGS[0]
        for art_id, article in sorted(report.articles[lang].items()):
            target_id = article.meta["translation"]
            target = report.articles[other].get(target_id)
            if target is None:
                report.add(article.path, f"translation '{target_id}' not found in {other}/")
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
                if link_lang != lang:
                    report.add(article.path, f"link /help/{link_lang}/{target} points to the other language")
                elif target not in report.articles.get(link_lang, {}):
                    report.add(article.path, f"link /help/{link_lang}/{target} points to no article")


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
