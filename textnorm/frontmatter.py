"""Help-center article files: reading them, splitting the YAML front matter, and the rules for its fields.

Why one parser: the knowledge-base index (retrieval/ingest.py), the help-center pages
(services/helpcenter/articles.py) and the validator CI runs (kb_articles/check_articles.py) all read the
same files. With one set of rules an article the validator accepts is served and indexed, and one it
refuses is refused everywhere with the same words. Every error names the file and the problem.

Two levels of strictness share the same field rules:

* serving (index, help center) needs ``REQUIRED_FIELDS``; :func:`parse_article` raises on the first file
  that breaks a rule;
* the validator also requires ``EDITORIAL_FIELDS`` and lists every problem (:func:`field_problems`), then
  checks what only it can see (file name, folder, translations, links).

Only the standard library and PyYAML, so both Python environments can import it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LANGS: tuple[str, ...] = ("pt", "en")
CATEGORIES: tuple[str, ...] = ("service", "support")
# ``status: draft`` keeps an article out of the search index and the help center (a lead's work in progress);
# no ``status`` means published, so every article written before drafts existed stays as it was.
STATUSES: tuple[str, ...] = ("draft", "published")
DRAFT, PUBLISHED = STATUSES
REQUIRED_FIELDS: tuple[str, ...] = ("id", "title", "lang", "category")
EDITORIAL_FIELDS: tuple[str, ...] = ("tags", "updated", "translation")
MAX_ID_CHARS = 100
MAX_ARTICLE_BYTES = 500_000
# An article id is part of its URL (/help/{lang}/{id}) and its file name: kebab-case ASCII.
ARTICLE_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ARTICLE_ID_RULE = f"kebab-case: lowercase letters and digits joined by single hyphens, at most {MAX_ID_CHARS} characters"
_FRONT_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


class FrontMatterError(ValueError):
    """One article file cannot be used; ``str()`` is "<file>: <problem>"."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class ArticleText:
    """A decoded file; ``warning`` says what was repaired (invalid UTF-8), None when nothing was."""

    text: str
    warning: str | None = None


@dataclass(frozen=True)
class FrontMatter:
    """The raw front matter mapping and the body after it (Markdown or HTML, untouched)."""

    meta: dict[str, Any]
    body: str


@dataclass(frozen=True)
class ArticleMeta:
    """Front matter fields after validation, in the form every reader uses."""

    id: str
    title: str
    lang: str
    category: str
    tags: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    translation: str | None = None
    updated: str | None = None  # ISO date, YYYY-MM-DD
    status: str = PUBLISHED

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT


def is_article_id(value: object) -> bool:
    """True when ``value`` follows the one article-id rule (:data:`ARTICLE_ID_RULE`)."""
    return isinstance(value, str) and len(value) <= MAX_ID_CHARS and bool(ARTICLE_ID_RE.match(value))


# ---------------------------------------------------------------- reading


def decode_article(raw: bytes, path: str | Path = "<bytes>") -> ArticleText:
    """Decode a file's bytes as UTF-8; invalid bytes become U+FFFD and are reported in ``warning``.

    Why tolerant: one stray byte in a long article should not take it off the help center; the validator
    turns the warning into a problem so it is still fixed before a commit.
    """
    if len(raw) > MAX_ARTICLE_BYTES:
        raise FrontMatterError(path, f"file is {len(raw)} bytes, more than {MAX_ARTICLE_BYTES}")
    if b"\x00" in raw:
        raise FrontMatterError(path, "binary file (contains NUL bytes)")
    try:
        return ArticleText(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", errors="replace")
        replaced = text.count("\ufffd")
        return ArticleText(text, f"invalid UTF-8 ({exc.reason} at byte {exc.start}); {replaced} character(s) replaced")


def read_article_file(path: Path) -> ArticleText:
    """Read and decode one article file (see :func:`decode_article`); ``OSError`` if it cannot be read."""
    return decode_article(Path(path).read_bytes(), path)


# ---------------------------------------------------------------- front matter


def split_front_matter(text: str, path: str | Path = "<string>") -> FrontMatter:
    """Split the leading ``---`` YAML block from the body; the block must be a mapping of fields."""
    if not isinstance(text, str):
        raise TypeError(f"article text must be str, got {type(text).__name__}")
    text = text.removeprefix("\ufeff")
    match = _FRONT_RE.match(text)
    if not match:
        raise FrontMatterError(
            path, "missing front matter (the file must start with a line '---', then the fields, then '---')"
        )
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise FrontMatterError(path, f"front matter is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(meta, dict):
        raise FrontMatterError(path, "front matter must be a YAML mapping (key: value lines)")
    return FrontMatter(meta=meta, body=text[match.end():])


def _missing(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


def missing_fields(meta: Mapping[str, Any], names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` are absent or empty in ``meta``."""
    return [name for name in names if _missing(meta.get(name))]


def _is_date(value: object) -> bool:
    if isinstance(value, dt.date):
        return True
    if isinstance(value, str) and len(value) == 10:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return True
    return False


def field_problems(meta: Mapping[str, Any], required: tuple[str, ...] = REQUIRED_FIELDS) -> dict[str, str]:
    """Every problem of the fields, one per field name (empty = valid); fields not there are not checked
    unless ``required``."""
    problems = {name: f"missing or empty field '{name}'" for name in missing_fields(meta, required)}

    def check(name: str, ok: bool, message: str) -> None:
        if name not in problems and not _missing(meta.get(name)) and not ok:
            problems[name] = message

    art_id, title, lang, category = (meta.get(k) for k in ("id", "title", "lang", "category"))
    tags, intents, updated, translation = (meta.get(k) for k in ("tags", "intents", "updated", "translation"))
    check("id", is_article_id(art_id), f"id {art_id!r} is not {ARTICLE_ID_RULE}")
    check("title", isinstance(title, str) and bool(title.strip()), "title must be text")
    check("lang", lang in LANGS, f"lang {lang!r} is not one of {', '.join(LANGS)}")
    check("category", category in CATEGORIES, f"category {category!r} is not one of {', '.join(CATEGORIES)}")
    check("tags", isinstance(tags, list) and all(isinstance(t, str) and t.strip() for t in tags),
          "tags must be a list of words, e.g. [pedido, entrega]")
    check("intents", isinstance(intents, list) and all(isinstance(i, str) and i for i in intents),
          "intents must be a list of intent names")
    check("updated", _is_date(updated), f"updated {updated!r} is not a date in the form YYYY-MM-DD")
    check("translation", is_article_id(translation), f"translation {translation!r} is not an article id ({ARTICLE_ID_RULE})")
    check("status", meta.get("status") in STATUSES, f"status {meta.get('status')!r} is not one of {', '.join(STATUSES)}")
    return problems


def status_of(meta: Mapping[str, Any]) -> str:
    """``draft`` or ``published`` (the default when the field is absent or empty)."""
    status = meta.get("status")
    return status if status in STATUSES else PUBLISHED


def article_meta(meta: Mapping[str, Any], path: str | Path = "<string>") -> ArticleMeta:
    """Validate the fields needed to serve an article; :class:`FrontMatterError` lists every problem."""
    problems = field_problems(meta)
    if problems:
        raise FrontMatterError(path, "; ".join(problems.values()))
    updated = meta.get("updated")
    if isinstance(updated, dt.datetime):
        updated = updated.date()
    translation = meta.get("translation")
    return ArticleMeta(
        id=meta["id"],
        title=" ".join(meta["title"].split()),
        lang=meta["lang"],
        category=meta["category"],
        tags=tuple(t.strip() for t in meta.get("tags") or ()),
        intents=tuple(meta.get("intents") or ()),
        translation=translation or None,
        updated=updated.isoformat() if isinstance(updated, dt.date) else (updated or None),
        status=status_of(meta),
    )


def parse_article(text: str, path: str | Path = "<string>") -> tuple[ArticleMeta, str]:
    """Front matter and body of one article's text, validated for serving: ``(meta, body)``."""
    front = split_front_matter(text, path)
    return article_meta(front.meta, path), front.body
