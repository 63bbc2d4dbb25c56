"""Draft articles from a knowledge-base gap: a Markdown file with ``status: draft``, prefilled for the lead.

Why prefilled with the customers' questions and the agents' answers: the lead writes the article the customers
needed, and the best material is what they asked (in their words, which the search must match) and what the
agents told them in the escalated chats of that gap. Both are masked for personal data before they are written.

A draft is a normal article file (kb_articles/<lang>/<id>.md) that the search and the help center skip, so it
is edited, previewed and published in the Articles area like any other; in both languages the drafts point to
each other (``translation``) and have the same sections, as the checker wants when they are published.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from services.chat.models import ChatMessage
from services.db import Database
from services.privacy import redact
from services.workspace.articles import ArticleError, ArticleFiles, Change
from services.workspace.gaps import Gap, normal
from textnorm import fold, stopwords_for, words
from textnorm.frontmatter import CATEGORIES, LANGS, MAX_ID_CHARS
from texts import catalogue

MAX_QUESTIONS = 12
MAX_ANSWERS = 8
MAX_TITLE_CHARS = 120
ID_CHARS = 60

TEMPLATE = {
    "pt": {"lead": "Escreva aqui a resposta em 1–2 frases: muitos clientes não leem mais do que isso.",
           "questions": "Perguntas dos clientes", "answers": "O que os atendentes responderam",
           "none": "Nenhum atendente respondeu a estas perguntas ainda.",
           "help": "Ainda precisa de ajuda?",
           "help_text": "Fale com a gente pelo chat aqui no site ou pelo telefone {phone}, {hours}."},
    "en": {"lead": "Write the answer here in 1–2 sentences: many customers read nothing else.",
           "questions": "Customers' questions", "answers": "What the agents answered",
           "none": "No agent has answered these questions yet.",
           "help": "Still need help?",
           "help_text": "Talk to us in the chat on this site or call {phone}, {hours}."},
}


@dataclass
class DraftRequest:
    """What the lead asked for: which languages, and optionally a title per language and the category."""

    langs: list[str]
    titles: dict[str, str]
    category: str | None = None


def slug(text: str) -> str:
    """A kebab-case article id from a title (accents folded, at most :data:`ID_CHARS` characters)."""
    base = re.sub(r"[^a-z0-9]+", "-", fold(text).lower()).strip("-") or "rascunho"
    if len(base) > ID_CHARS:
        base = base[:ID_CHARS].rsplit("-", 1)[0] or base[:ID_CHARS]
    return base


def free_id(files: ArticleFiles, wanted: str, taken: set[str]) -> str:
    """``wanted`` or ``wanted-2``, ``-3``...: ids are unique across both languages (the checker's rule)."""
    candidate, n = wanted, 1
    while candidate in taken or any(files.exists(lang, candidate) for lang in LANGS):
        n += 1
        candidate = f"{wanted}-{n}"[:MAX_ID_CHARS]
    return candidate


def tags_for(texts: list[str], lang: str, limit: int = 5) -> list[str]:
    """The most frequent content words of the questions: search words customers really use."""
    stop = stopwords_for(lang) | stopwords_for("en" if lang == "pt" else "pt")
    counts = Counter(w for t in texts for w in set(words(fold(t.lower()))) if len(w) >= 4 and w not in stop)
    return [w for w, _ in counts.most_common(limit)] or ["rascunho"]


def agent_answers(db: Database, conversation_ids: list[str]) -> list[str]:
    """What agents wrote in those conversations (masked, one line each, without repeats)."""
    if not conversation_ids:
        return []
    with db.session() as s:  # the agent_message events point at these rows (by seq); the text lives here
        texts = list(s.scalars(select(ChatMessage.text).where(
            ChatMessage.conversation_id.in_(conversation_ids[:500]), ChatMessage.role == "agent")
            .order_by(ChatMessage.id)).all())
    seen: dict[str, str] = {}
    for text in texts:
        line = " ".join(redact(text).split())
        if len(line) >= 3:
            seen.setdefault(normal(line), line)
    return list(seen.values())[:MAX_ANSWERS]


def _quote(text: str) -> str:
    """One list item: a customer's or agent's words on one line (HTML in them is escaped by the renderer)."""
    return "- " + " ".join(text.split()).replace("\\", "\\\\")


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def company(lang: str) -> dict[str, str]:
    """The phone and hours from texts/company.yml (each fact is written there only)."""
    facts = catalogue().company(lang)
    return {"phone": str(facts.phone), "hours": str(facts.hours)}


def render(lang: str, art_id: str, title: str, category: str, tags: list[str], translation: str | None,
           questions: list[str], answers: list[str], today: dt.date) -> str:
    words_ = TEMPLATE[lang]
    front = [f"id: {art_id}", f"title: {_yaml_str(title)}", f"lang: {lang}", f"category: {category}",
             f"tags: [{', '.join(tags)}]", f"updated: {today.isoformat()}"]
    if translation:
        front.append(f"translation: {translation}")
    front.append("status: draft")
    body = [words_["lead"], "", f"## {words_['questions']}", "", *map(_quote, questions), "",
            f"## {words_['answers']}", "", *(map(_quote, answers) if answers else [words_["none"]]), "",
            f"## {words_['help']}", "", words_["help_text"].format(**company(lang)), ""]
    return "---\n" + "\n".join(front) + "\n---\n" + "\n".join(body)


def _title_for(gap: Gap, lang: str, asked: str | None) -> str:
    if asked and asked.strip():
        return " ".join(asked.split())[:MAX_TITLE_CHARS]
    same = [q for q in gap.questions if q.language == lang]
    text = gap.representative.text if gap.representative.language == lang or not same else same[0].text
    return " ".join(redact(text).split())[:MAX_TITLE_CHARS]


def parse_request(body: dict[str, Any]) -> DraftRequest:
    """Check the lead's request; :class:`ArticleError` with a clear message otherwise."""
    langs = body.get("langs") or ([body["lang"]] if body.get("lang") else [])
    if not isinstance(langs, list) or not langs or any(lang not in LANGS for lang in langs):
        raise ArticleError(f"choose the draft's language(s): {' and/or '.join(LANGS)}")
    titles = body.get("titles") or {}
    if not isinstance(titles, dict) or any(not isinstance(v, str) or len(v) > MAX_TITLE_CHARS
                                           for v in titles.values()):
        raise ArticleError(f"titles must be texts of at most {MAX_TITLE_CHARS} characters, by language")
    category = body.get("category")
    if category is not None and category not in CATEGORIES:
        raise ArticleError(f"category must be one of {', '.join(CATEGORIES)}")
    return DraftRequest(list(dict.fromkeys(langs)), titles, category)


def create_drafts(files: ArticleFiles, db: Database, gap: Gap, request: DraftRequest,
                  today: dt.date | None = None) -> list[Change]:
    """Write one draft per language asked (linked as translations when both); refuse nothing silently."""
    today = today or dt.date.today()
    questions = list(dict.fromkeys(" ".join(redact(q.text).split()) for q in gap.questions))[:MAX_QUESTIONS]
    answers = agent_answers(db, gap.conversations)
    category = request.category or (gap.closest or {}).get("category") or CATEGORIES[0]
    titles = {lang: _title_for(gap, lang, request.titles.get(lang)) for lang in request.langs}
    ids: dict[str, str] = {}
    for lang in request.langs:
        ids[lang] = free_id(files, slug(titles[lang]), set(ids.values()))
    texts = {}
    for lang in request.langs:
        other = next((ids[o] for o in request.langs if o != lang), None)
        texts[lang] = render(lang, ids[lang], titles[lang], category, tags_for(questions, lang), other,
                             questions, answers, today)
    return [files.create(lang, ids[lang], texts[lang]) for lang in request.langs]
