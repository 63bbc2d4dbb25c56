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
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

log = logging.getLogger(__name__)

LANGS = ("pt", "en")
CATEGORIES = ("service", "support")
MAX_FILE_BYTES = 500_000
_FRONT_RE = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,100}$")

# html=False: raw HTML in an article is shown as text, never injected; markdown-it also refuses
# javascript:/vbscript:/data: link targets by default (validateLink).
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def fold(text: str) -> str:
    """Lower-case, accent-free text for matching ("Não" ~ "nao", "CONFIGURAÇÃO" ~ "configuracao")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


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
    folded: str = field(default="", repr=False)

    @property
    def url(self) -> str:
        return f"/help/{self.lang}/{self.id}"

    def summary(self, chars: int = 170) -> str:
        text = self.plain
        if len(text) <= chars:
            return text
        return text[:chars].rsplit(" ", 1)[0] + "…"


def parse_article(path: Path) -> Article:
    """Parse one file; ``ValueError`` with a readable reason when the front matter is unusable."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
    raw = path.read_bytes().decode("utf-8", errors="replace")
    match = _FRONT_RE.match(raw)
    if not match:
        raise ValueError(f"{path}: no front matter")
    meta = yaml.safe_load(match.group(1))
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: front matter is not a mapping")
    art_id = str(meta.get("id") or "").strip()
    lang = str(meta.get("lang") or path.parent.name).strip().lower()
    category = str(meta.get("category") or "").strip().lower()
    title = " ".join(str(meta.get("title") or "").split())
    if not _ID_RE.match(art_id) or lang not in LANGS or category not in CATEGORIES or not title:
        raise ValueError(f"{path}: id, lang (pt|en), category (service|support) and title are required")
    tags = meta.get("tags") or ()
    tags = tuple(str(t) for t in (tags if isinstance(tags, list | tuple) else str(tags).split(",")))
    body = raw[match.end():]
    translation = meta.get("translation")
    plain = _plain(body)
    return Article(id=art_id, lang=lang, title=title, category=category, tags=tags,
                   updated=str(meta.get("updated") or ""), translation=str(translation) if translation else None,
                   body=body, html=_MD.render(body), plain=plain, path=path,
                   folded=fold(" ".join((title, " ".join(tags), plain))))


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
            except (OSError, ValueError, yaml.YAMLError) as error:
                log.warning("help center skips an article: %s", error)
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
