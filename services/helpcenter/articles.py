"""Help-center articles: parsed from ``kb_articles/{pt,en}/*.md``, cached, re-read when files change.

Why a cache with a change check: articles are edited while the app runs (writers preview their work);
parsing ~100 Markdown files per request would be wasteful, and restarting the app to see an edit is
annoying. The store compares a cheap fingerprint (names, sizes, mtimes) at most every ``check_seconds``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

from textnorm import fold, frontmatter, words
from textnorm.frontmatter import CATEGORIES, LANGS

log = logging.getLogger(__name__)

# html=False: raw HTML in an article is shown as text, never injected; markdown-it also refuses
# javascript:/vbscript:/data: link targets by default (validateLink).
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def render_markdown(body: str) -> str:
    """An article body as the help center shows it: raw HTML escaped, unsafe link targets dropped.

    Public so the lead's editor previews with exactly the renderer customers get (services/workspace)."""
    return _MD.render(body)


def _plain(markdown: str) -> str:
    """Markdown without its markup, for search and snippets."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"[*_`]+", "", text)  # emphasis markers vanish ("**5.2**:" → "5.2:")
    text = re.sub(r"^\s*(?:#+|>|[-+]|\d+\.)\s+|[|]", " ", text, flags=re.MULTILINE)
    return " ".join(text.split())


@dataclass
class Article:
    """One article, with its body rendered to safe HTML once."""

    id: str
    lang: str
    title: str
    category: str
    tags: tuple[str, ...]
    updated: str
    translation: str | None
    body: str
    html: str
    plain: str
    path: Path
    folded: str = field(default="", repr=False)  # title, tags and text, accent-folded (textnorm.fold)
    words: frozenset[str] = field(default=frozenset(), repr=False)  # the words of ``folded``, for search

    @property
    def url(self) -> str:
        return f"/help/{self.lang}/{self.id}"

    def summary(self, chars: int = 170) -> str:
        text = self.plain
        if len(text) <= chars:
            return text
        return text[:chars].rsplit(" ", 1)[0] + "…"


def parse_article(path: Path) -> Article | None:
    """Parse one file with the shared front-matter rules; ``ValueError`` (file + reason) when unusable,
    None for a draft (``status: draft``), which the help center does not show."""
    meta, body = frontmatter.parse_article(frontmatter.read_article_file(path).text, path)
    if meta.is_draft:
        return None
    plain = _plain(body)
    folded = fold(" ".join((meta.title, " ".join(meta.tags), plain)))
    return Article(id=meta.id, lang=meta.lang, title=meta.title, category=meta.category, tags=meta.tags,
                   updated=meta.updated or "", translation=meta.translation, body=body, html=render_markdown(body),
                   plain=plain, path=path, folded=folded, words=frozenset(words(folded)))


class ArticleStore:
    """All articles by language and id; thread-safe, reloads itself when the folder changes."""

    def __init__(self, root: Path, check_seconds: float = 2.0) -> None:
        self.root = root
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._fingerprint: tuple[tuple[str, int, int], ...] | None = None
        self._checked_at = 0.0
        self._articles: dict[str, dict[str, Article]] = {lang: {} for lang in LANGS}

    def _scan(self) -> tuple[tuple[str, int, int], ...]:
        entries = []
        for lang in LANGS:
            folder = self.root / lang
            if not folder.is_dir():
                continue
            for path in folder.glob("*.md"):
                try:
                    st = path.stat()
                except OSError:
                    continue
                entries.append((str(path), st.st_size, st.st_mtime_ns))
        return tuple(sorted(entries))

    def _load(self, fingerprint: tuple[tuple[str, int, int], ...]) -> None:
        articles: dict[str, dict[str, Article]] = {lang: {} for lang in LANGS}
        for name, _size, _mtime in fingerprint:
            try:
                article = parse_article(Path(name))
            except (OSError, ValueError) as error:
                log.warning("help center skips an article: %s", error)
                continue
            if article is None:  # a draft: customers never see a lead's work in progress
                continue
            articles[article.lang][article.id] = article
        self._articles = articles
        log.info("help center loaded %d pt and %d en articles", len(articles["pt"]), len(articles["en"]))

    def refresh(self, force: bool = False) -> None:
        """Re-read the folder if anything changed (at most every ``check_seconds`` unless ``force``)."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.check_seconds:
            return
        with self._lock:
            self._checked_at = now
            fingerprint = self._scan()
            if fingerprint != self._fingerprint:
                self._load(fingerprint)
                self._fingerprint = fingerprint

    def get(self, lang: str, article_id: str) -> Article | None:
        self.refresh()
        return self._articles.get(lang, {}).get(article_id)

    def all(self, lang: str) -> list[Article]:
        self.refresh()
        return sorted(self._articles.get(lang, {}).values(), key=lambda a: fold(a.title))

    def by_category(self, lang: str) -> dict[str, list[Article]]:
        grouped: dict[str, list[Article]] = {c: [] for c in CATEGORIES}
        for article in self.all(lang):
            grouped[article.category].append(article)
        return grouped

    def related(self, article: Article, limit: int = 6) -> list[Article]:
        """Articles of the same category, those sharing the most tags first (the sidebar of an article)."""
        tags = set(article.tags)
        same = [a for a in self.by_category(article.lang)[article.category] if a.id != article.id]
        return sorted(same, key=lambda a: (-len(tags & set(a.tags)), fold(a.title)))[:limit]

    def translation_of(self, article: Article) -> Article | None:
        """The same article in the other language (front matter ``translation``), if it exists."""
        other = "en" if article.lang == "pt" else "pt"
        if article.translation:
            found = self.get(other, article.translation)
            if found:
                return found
        return next((a for a in self.all(other) if a.translation == article.id), None)
