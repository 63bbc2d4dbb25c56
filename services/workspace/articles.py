"""Article management for the lead: list, read, save, publish and unpublish the Markdown files of kb_articles/.

Why files and not a table: the Markdown files stay the source of truth (reviewed in git, checked by CI), so
every write here is a plain file write, checked by the very checker CI runs (``kb_articles/check_articles.py``).

Two leads editing one file: each save carries the version (a hash of the bytes) the lead loaded; a file that
changed since is refused (:class:`StaleVersion`, HTTP 409) instead of silently overwritten. The check and the
write happen under a lock (a thread lock for this process, ``flock`` on the file for other processes), and the
write is atomic (a temporary file in the same folder, then ``os.replace``), so a reader never sees half a file.

A pair of translations moves together: publishing a draft publishes its draft translation, unpublishing a
published article unpublishes its translation, because the checker refuses a published article paired with a
draft (customers would follow a link to a page that does not exist).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb_articles.check_articles import check_folder
from textnorm.frontmatter import (
    DRAFT,
    LANGS,
    MAX_ARTICLE_BYTES,
    PUBLISHED,
    FrontMatterError,
    is_article_id,
    split_front_matter,
    status_of,
)

_FRONT_BLOCK = re.compile(r"\A(\ufeff?---[ \t]*\r?\n)(.*?)(\r?\n---[ \t]*(?:\r?\n|\Z))", re.DOTALL)
_STATUS_LINE = re.compile(r"^status[ \t]*:.*$", re.MULTILINE)
_WRITE_LOCK = threading.Lock()  # one article write at a time in this process (writes are rare)


class ArticleError(Exception):
    """A refused request, with a message a lead understands and (for checker refusals) the checker's lines."""

    status_code = 422

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class ArticleNotFound(ArticleError):
    status_code = 404


class StaleVersion(ArticleError):
    status_code = 409


def version_of(raw: bytes) -> str:
    """The version a client sends back when saving: the SHA-256 of the file's bytes."""
    return hashlib.sha256(raw).hexdigest()


def with_status(text: str, status: str) -> str:
    """``text`` with its front matter's ``status`` set (the line replaced, or added at the end of the block)."""
    match = _FRONT_BLOCK.match(text)
    if not match:
        raise ArticleError("the article has no front matter (it must start with a '---' line)")
    block = match.group(2)
    line = f"status: {status}"
    block = _STATUS_LINE.sub(line, block, count=1) if _STATUS_LINE.search(block) else f"{block}\n{line}"
    return match.group(1) + block + match.group(3) + text[match.end():]


@dataclass
class ArticleFile:
    """One file as read: text, version and the front matter fields the list shows."""

    lang: str
    id: str
    path: Path
    text: str
    version: str
    meta: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None  # unreadable front matter: shown in the list, fixed in the editor

    @property
    def status(self) -> str:
        return status_of(self.meta)

    def summary(self) -> dict[str, Any]:
        updated = self.meta.get("updated")
        return {"id": self.id, "lang": self.lang, "title": str(self.meta.get("title") or self.id),
                "status": self.status, "category": self.meta.get("category"),
                "updated": str(updated) if updated else None, "translation": self.meta.get("translation"),
                "problem": self.problem}

    def detail(self) -> dict[str, Any]:
        return {**self.summary(), "text": self.text, "version": self.version}


@dataclass
class Change:
    """One file written: what it was and what it is (the audit's before/after)."""

    lang: str
    id: str
    before: str | None
    after: str
    version: str

    @property
    def target(self) -> str:
        return f"article:{self.lang}/{self.id}"

    def audit(self, status_before: str | None, status_after: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        before = None if self.before is None else {"status": status_before, "text": self.before}
        return before, {"status": status_after, "text": self.after, "version": self.version}


@dataclass
class Outcome:
    """What a save/publish/unpublish did: the files changed, and the checker's remarks on a draft."""

    changes: list[Change]
    remarks: list[str] = field(default_factory=list)
    live: bool = False  # a published article changed: the search index and the help center must follow


class ArticleFiles:
    """The articles under one ``kb_articles`` folder (``<root>/<lang>/<id>.md``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ reading
    def path_of(self, lang: str, article_id: str) -> Path:
        if lang not in LANGS:
            raise ArticleNotFound(f"unknown language '{lang[:20]}' (use one of {', '.join(LANGS)})")
        if not is_article_id(article_id):
            raise ArticleNotFound(f"'{article_id[:120]}' is not an article id (kebab-case, like rastrear-pedido)")
        return self.root / lang / f"{article_id}.md"

    def read(self, lang: str, article_id: str) -> ArticleFile:
        path = self.path_of(lang, article_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ArticleNotFound(f"there is no article {lang}/{article_id}") from None
        return self._parse(lang, article_id, path, raw)

    @staticmethod
    def _parse(lang: str, article_id: str, path: Path, raw: bytes) -> ArticleFile:
        text = raw.decode("utf-8", errors="replace")
        article = ArticleFile(lang=lang, id=article_id, path=path, text=text, version=version_of(raw))
        try:
            article.meta = split_front_matter(text, f"{lang}/{article_id}.md").meta
        except FrontMatterError as error:
            article.problem = error.problem
        return article

    def list(self) -> list[dict[str, Any]]:
        out = []
        for lang in LANGS:
            folder = self.root / lang
            for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
                if not is_article_id(path.stem):
                    continue
                try:
                    out.append(self._parse(lang, path.stem, path, path.read_bytes()).summary())
                except OSError:
                    continue
        return out

    def exists(self, lang: str, article_id: str) -> bool:
        return self.path_of(lang, article_id).is_file()

    # ------------------------------------------------------------------ checks
    def check_with(self, texts: dict[tuple[str, str], str]) -> tuple[list[str], list[str]]:
        """The checker's problems on a copy of the folder with ``texts`` written in: (all problems, new ones).

        Why a copy: the checker looks across files (translations, links), so a change is judged in the folder
        it will live in, before anything is written."""
        with tempfile.TemporaryDirectory(prefix="kb-check-") as tmp:
            copy = Path(tmp) / "kb"
            before = self._problems(self.root, self.root)
            shutil.copytree(self.root, copy, ignore=shutil.ignore_patterns(".*"))
            for (lang, article_id), text in texts.items():
                (copy / lang).mkdir(parents=True, exist_ok=True)
                (copy / lang / f"{article_id}.md").write_text(text, encoding="utf-8")
            after = self._problems(copy, copy)
        return after, [p for p in after if p not in before]

    @staticmethod
    def _problems(folder: Path, strip: Path) -> list[str]:
        prefix = f"{strip}{os.sep}"
        return [p.replace(prefix, "") for p in check_folder(folder)]

    def refuse_on_problems(self, texts: dict[tuple[str, str], str], action: str) -> None:
        """Raise with the checker's lines when the change breaks the affected files or adds any problem."""
        after, new = self.check_with(texts)
        touched = tuple(f"{lang}/{article_id}.md" for lang, article_id in texts)
        blocking = [p for p in after if p.startswith(touched)] + [p for p in new if not p.startswith(touched)]
        if blocking:
            raise ArticleError(f"{action} refused by the article checker (kb_articles/check_articles.py)",
                               sorted(set(blocking)))

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def _locked(self, paths: list[Path]) -> Iterator[None]:
        """This process's write lock plus ``flock`` on each existing file (another services process)."""
        with _WRITE_LOCK, contextlib.ExitStack() as stack:
            for path in sorted(set(paths)):
                if path.exists():
                    handle = stack.enter_context(path.open("rb"))
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield

    @staticmethod
    def _write(path: Path, text: str) -> str:
        """Atomic write (temporary file + rename in the same folder); returns the new version."""
        raw = text.encode("utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return version_of(raw)

    @staticmethod
    def validate_text(text: object, lang: str, article_id: str) -> dict[str, Any]:
        """The text a lead sends: non-empty, not too big, not binary, with front matter naming this file."""
        if not isinstance(text, str) or not text.strip():
            raise ArticleError("the article is empty")
        if "\x00" in text:
            raise ArticleError("the text contains binary data (NUL characters)")
        size = len(text.encode("utf-8", errors="replace"))
        if size > MAX_ARTICLE_BYTES:
            raise ArticleError(f"the article is {size} bytes, more than the {MAX_ARTICLE_BYTES} allowed")
        try:
            meta = split_front_matter(text, f"{lang}/{article_id}.md").meta
        except FrontMatterError as error:
            raise ArticleError(error.problem) from None
        if meta.get("id") != article_id:
            raise ArticleError(f"the front matter's id must stay '{article_id}' (the file name and the URL); "
                               "to rename, create a new article")
        if meta.get("lang") != lang:
            raise ArticleError(f"the front matter's lang must stay '{lang}' (the article's folder)")
        if meta.get("status") not in (None, "", DRAFT, PUBLISHED):
            raise ArticleError(f"status must be '{DRAFT}' or '{PUBLISHED}'")
        return meta

    def save(self, lang: str, article_id: str, text: object, version: str) -> Outcome:
        """Write a lead's edit if the file is still at ``version``; a published article must pass the checker.

        The status cannot change here (Publish/Unpublish do that, with their pair and the re-index)."""
        meta = self.validate_text(text, lang, article_id)
        assert isinstance(text, str)
        path = self.path_of(lang, article_id)
        with self._locked([path]):
            current = self.read(lang, article_id)
            if current.version != version:
                raise StaleVersion("this article was changed by someone else after you opened it; "
                                   "reload it (copy your changes first) and save again")
            if status_of(meta) != current.status:
                raise ArticleError("the status cannot be changed by editing; use the Publish or Unpublish button")
            if current.status == PUBLISHED:
                self.refuse_on_problems({(lang, article_id): text}, "saving this published article")
                remarks: list[str] = []
            else:
                after, _ = self.check_with({(lang, article_id): text})
                remarks = [p for p in after if p.startswith(f"{lang}/{article_id}.md")]
            new_version = self._write(path, text)
        return Outcome([Change(lang, article_id, current.text, text, new_version)], remarks,
                       live=current.status == PUBLISHED)

    def _pair(self, article: ArticleFile, status: str) -> list[ArticleFile]:
        """The article plus its translation when that one has to move with it to ``status``."""
        pair = [article]
        other_lang = LANGS[1] if article.lang == LANGS[0] else LANGS[0]
        other_id = article.meta.get("translation")
        if is_article_id(other_id) and self.exists(other_lang, other_id):
            other = self.read(other_lang, other_id)
            if other.meta.get("translation") == article.id and other.status != status:
                pair.append(other)
        return pair

    def set_status(self, lang: str, article_id: str, status: str, version: str | None = None) -> Outcome:
        """Publish (``published``) or unpublish (``draft``) an article and, when needed, its translation."""
        path = self.path_of(lang, article_id)
        action = "publishing" if status == PUBLISHED else "unpublishing"
        with self._locked([path]):
            article = self.read(lang, article_id)
            if version is not None and article.version != version:
                raise StaleVersion("this article was changed by someone else after you opened it; reload it")
            if article.problem:
                raise ArticleError(f"{action} refused: {article.problem}")
            if article.status == status:
                word = "published" if status == PUBLISHED else "a draft"
                raise ArticleError(f"the article is already {word}")
            pair = self._pair(article, status)
            texts = {(a.lang, a.id): with_status(a.text, status) for a in pair}
            self.refuse_on_problems(texts, action)
            changes = [Change(a.lang, a.id, a.text, texts[(a.lang, a.id)],
                              self._write(a.path, texts[(a.lang, a.id)])) for a in pair]
        return Outcome(changes, live=True)

    def create(self, lang: str, article_id: str, text: str) -> Change:
        """A new file (a draft from a gap); refused when the id is taken, never overwritten."""
        path = self.path_of(lang, article_id)
        with self._locked([]):
            if path.exists():
                raise StaleVersion(f"an article {lang}/{article_id} already exists")
            return Change(lang, article_id, None, text, self._write(path, text))
