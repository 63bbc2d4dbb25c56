"""Help-center articles (Markdown or HTML with YAML front matter) → passages along headings.

Passages are the unit of search: one per section (heading path kept), long sections cut into
overlapping word windows so no passage exceeds what the encoder reads (e5 reads 512 tokens).
A broken file is reported and skipped; it never stops the other articles from being indexed.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from textnorm import frontmatter

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".md", ".markdown", ".html", ".htm")
SKIP_STEMS = ("readme",)  # folder documentation, not an article
_TAG_RE = re.compile(r"<[^>]+>")
_MD_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARK_RE = re.compile(r"(\*\*|__|\*|_|`|~~)")


# One article file cannot be ingested; the message says which file and why (the shared parser's error).
IngestError = frontmatter.FrontMatterError


@dataclass(frozen=True)
class Article:
    """One help-center article, as read from its file."""

    id: str
    title: str
    lang: str
    category: str
    body: str
    fmt: str = "md"  # md | html | text
    tags: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    translation: str | None = None
    updated: str | None = None
    path: str = ""
    status: str = frontmatter.PUBLISHED

    @property
    def key(self) -> str:
        """Unique key: the same id may exist in both languages (translations)."""
        return f"{self.lang}/{self.id}"

    @property
    def url(self) -> str:
        """Help-center URL, as fixed by docs/architecture.md."""
        return f"/help/{self.lang}/{self.id}"

    @property
    def content_hash(self) -> str:
        """Hash of everything that changes the passages; drives incremental re-indexing."""
        h = hashlib.sha256()
        for part in (self.id, self.title, self.lang, self.category, self.fmt, self.body):
            h.update(part.encode("utf-8", "replace"))
            h.update(b"\0")
        return h.hexdigest()


@dataclass
class Passage:
    """A searchable piece of an article; ``heading`` is the section path joined by " › "."""

    article_key: str
    article_id: str
    title: str
    lang: str
    category: str
    heading: str
    text: str
    url: str
    position: int = 0

    @property
    def embed_text(self) -> str:
        """What the encoder and BM25 see: title and heading give a short section its context."""
        head = self.heading if self.heading and self.heading != self.title else ""
        return ". ".join(p for p in (self.title, head, self.text) if p)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class IngestReport:
    """Articles read, and per-file errors/warnings for the operator."""

    articles: list[Article] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    drafts: list[str] = field(default_factory=list)  # files left out because they are drafts


# ---------------------------------------------------------------- reading files


def parse_article(text: str, path: str = "<string>", fmt: str = "md") -> Article:
    """Split front matter from body and validate it with the shared rules (textnorm.frontmatter)."""
    meta, body = frontmatter.parse_article(text, path)
    return Article(
        id=meta.id,
        title=meta.title,
        lang=meta.lang,
        category=meta.category,
        body=body,
        fmt=fmt,
        tags=meta.tags,
        intents=meta.intents,
        translation=meta.translation,
        updated=meta.updated,
        path=path,
        status=meta.status,
    )


def load_article(path: Path, warnings: dict[str, str] | None = None) -> Article:
    """Read one article file (Markdown or HTML); repaired bytes are logged and noted in ``warnings``."""
    fmt = "html" if path.suffix.lower() in (".html", ".htm") else "md"
    decoded = frontmatter.read_article_file(path)
    if decoded.warning:
        log.warning("%s: %s", path, decoded.warning)
        if warnings is not None:
            warnings[str(path)] = decoded.warning
    return parse_article(decoded.text, str(path), fmt)


def load_articles(root: Path) -> IngestReport:
    """Read every article under ``root`` (recursively); bad files land in ``report.errors``.

    Drafts (``status: draft``) are skipped: a lead's unfinished article must not answer customers.
    """
    report = IngestReport()
    seen: dict[str, str] = {}
    for path in sorted(p for p in Path(root).rglob("*") if p.suffix.lower() in ARTICLE_SUFFIXES):
        if not path.is_file() or path.stem.lower() in SKIP_STEMS:
            continue
        try:
            art = load_article(path, report.warnings)
        except (IngestError, OSError) as exc:
            log.error("%s", exc)
            report.errors[str(path)] = str(exc)
            continue
        if art.status == frontmatter.DRAFT:
            report.drafts.append(str(path))
            continue
        if art.key in seen:
            msg = f"{path}: duplicate article {art.key} (already in {seen[art.key]})"
            log.error("%s", msg)
            report.errors[str(path)] = msg
            continue
        seen[art.key] = str(path)
        report.articles.append(art)
    return report


# ---------------------------------------------------------------- sections


def _inline_text(s: str) -> str:
    s = _MD_LINK_RE.sub(r"\1", s)
    s = _TAG_RE.sub(" ", s)
    s = _MD_MARK_RE.sub("", s)
    return html_lib.unescape(s)


def markdown_sections(body: str) -> list[tuple[list[str], str]]:
    """(heading path, text) per section; tables become "a | b" rows, code blocks stay verbatim."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    sections: list[tuple[list[str], str]] = []
    path: list[tuple[int, str]] = []
    blocks: list[str] = []
    row: list[str] | None = None
    in_heading = 0

    def flush() -> None:
        text = "\n".join(b for b in blocks if b.strip()).strip()
        sections.append(([h for _, h in path], text))
        blocks.clear()

    for tok in tokens:
        if tok.type == "heading_open":
            flush()
            in_heading = int(tok.tag[1])
        elif tok.type == "heading_close":
            in_heading = 0
        elif tok.type == "inline":
            text = " ".join(_inline_text(tok.content).split())
            if in_heading:
                path = [(lvl, h) for lvl, h in path if lvl < in_heading] + [(in_heading, text)]
            elif row is not None:
                row.append(text)
            else:
                blocks.append(text)
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close":
            if row is not None and any(row):
                blocks.append(" | ".join(row))
            row = None
        elif tok.type in ("fence", "code_block"):
            blocks.append(tok.content.rstrip())
        elif tok.type == "html_block":
            blocks.append(" ".join(html_lib.unescape(_TAG_RE.sub(" ", tok.content)).split()))
    flush()
    return [(p, t) for p, t in sections if t]


def html_sections(body: str) -> list[tuple[list[str], str]]:
    """Same as :func:`markdown_sections` for HTML; script/style content is dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body, "html.parser")
    for bad in soup(["script", "style", "noscript", "template", "iframe"]):
        bad.decompose()
    sections: list[tuple[list[str], str]] = []
    path: list[tuple[int, str]] = []
    blocks: list[str] = []
    headings = {"h1", "h2", "h3", "h4", "h5", "h6"}
    block_tags = ["p", "li", "tr", "pre", "blockquote", "dd", "dt", "td", "th", *headings]

    def flush() -> None:
        text = "\n".join(b for b in blocks if b).strip()
        if text:
            sections.append(([h for _, h in path], text))
        blocks.clear()

    for el in soup.find_all(block_tags):
        if el.name in headings:
            flush()
            level = int(el.name[1])
            path = [(lvl, h) for lvl, h in path if lvl < level] + [(level, " ".join(el.get_text(" ").split()))]
        elif el.name == "tr":
            cells = [" ".join(c.get_text(" ").split()) for c in el.find_all(["td", "th"])]
            if any(cells):
                blocks.append(" | ".join(cells))
        elif el.name in ("td", "th") or el.find_parent(["li", "p", "pre", "blockquote", "td", "th"]):
            continue  # nested: the enclosing block already holds this text
        elif el.name == "pre":
            blocks.append(el.get_text().rstrip())
        else:
            blocks.append(" ".join(el.get_text(" ").split()))
    if not sections and not blocks:
        text = " ".join(soup.get_text(" ").split())
        if text:
            blocks.append(text)
    flush()
    return sections


def windows(text: str, max_words: int, overlap: int) -> list[str]:
    """Cut ``text`` into windows of at most ``max_words`` words, ``overlap`` words shared."""
    words = text.split()
    if len(words) <= max_words:
        return [text] if words else []
    step = max(1, max_words - overlap)
    out = []
    for start in range(0, len(words), step):
        out.append(" ".join(words[start:start + max_words]))
        if start + max_words >= len(words):
            break
    return out


def article_passages(article: Article, max_words: int = 200, overlap: int = 40) -> list[Passage]:
    """All passages of one article, in reading order."""
    if article.fmt == "html":
        sections = html_sections(article.body)
    elif article.fmt == "text":
        sections = [([], article.body.strip())] if article.body.strip() else []
    else:
        sections = markdown_sections(article.body)
    out: list[Passage] = []
    for path, text in sections:
        # the H1 usually repeats the title; drop it from the path shown to customers
        if path and path[0].strip().lower() == article.title.lower():
            path = path[1:]
        heading = " › ".join(path) if path else article.title
        for chunk in windows(text, max_words, overlap):
            out.append(Passage(article.key, article.id, article.title, article.lang, article.category,
                               heading, chunk, article.url, len(out)))
    if not out:  # title-only article: still findable by its title
        out.append(Passage(article.key, article.id, article.title, article.lang, article.category,
                           article.title, "", article.url, 0))
    return out
