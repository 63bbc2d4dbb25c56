"""One customer's data, everywhere the product keeps it: find it, export it (LGPD Art. 18 access and
portability), erase it or anonymise it (Art. 16 and 18).

Why the tables are discovered rather than listed: every table that stores something about a conversation
carries a ``conversation_id`` column (messages, events, handoffs, knowledge-base events, contact requests, the
lead workspace's tables), and tables that hang off those do so by a foreign key (a handoff's notes). Walking
the schema finds a table a later feature adds, so "export everything" and "erase everything" stay true
without anyone remembering to update a list. Two stores sit outside the services' schema and are handled by
name: Rasa's tracker store (its own database, see :class:`TrackerStore`) and the webhook outbox (its rows
carry the conversation id inside a JSON body).

Anonymising keeps what the metrics count (that a conversation happened, when, which intent, how long the
customer waited, the rating) and removes every text a person typed or that names them; see
:data:`EVENT_KEYS_KEPT`. It is also what the retention job applies to old conversations.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.sql.sqltypes import TypeEngine

from pii.checks import digits_of
from services.db import MODEL_MODULES, Base, Database, utcnow

CONVERSATIONS = "chat_conversations"
WEBHOOK_OUTBOX = "handoff_webhook_deliveries"
# Event data that is not personal and that the metrics and the lead's review read; everything else in an
# event's data (texts, comments, contact details, entities' values, queries) is dropped when anonymising.
EVENT_KEYS_KEPT = frozenset({
    "intent", "confidence", "actions", "action", "article_id", "article", "kb_article", "reason", "language",
    "rating", "score", "skipped", "team", "to_team", "from_team", "to_agent_id", "tag", "helped", "status",
    "probability", "fallback", "category", "priority", "handoff_id", "channel", "previous", "turn",
})
ERASED_TEXT = ""


def _load_models() -> None:
    """Import every module that declares tables, so the schema walk sees all of them."""
    for module in MODEL_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            continue


def _texty(type_: TypeEngine[Any]) -> bool:
    return isinstance(type_, String | Text | JSON)


def _lower_text(column: Column[Any]) -> Any:
    """The column as lower-case text (JSON cast to its text form), for a substring search."""
    return func.lower(column.cast(Text) if isinstance(column.type, JSON) else column)


@dataclass(frozen=True)
class Schema:
    """The tables holding conversation data: direct (a ``conversation_id`` column) and their children (FK)."""

    conversations: Table
    direct: tuple[Table, ...]
    # (child table, its foreign-key column, the parent table, the parent's referenced key)
    children: tuple[tuple[Table, Column[Any], Table, Column[Any]], ...]

    @classmethod
    def of(cls, metadata: MetaData = Base.metadata) -> Schema:
        _load_models()
        conversations = metadata.tables[CONVERSATIONS]
        direct = tuple(t for name, t in sorted(metadata.tables.items())
                       if name != CONVERSATIONS and "conversation_id" in t.columns)
        children = []
        for table in metadata.tables.values():
            if table is conversations or table in direct:
                continue
            for fk in table.foreign_keys:
                if fk.column.table in direct and fk.column.primary_key:
                    children.append((table, fk.parent, fk.column.table, fk.column))
        return cls(conversations, direct, tuple(sorted(children, key=lambda c: c[0].name)))


class TrackerStore:
    """Rasa's SQL tracker store (table ``events``, one row per tracker event, keyed by ``sender_id``).

    Rasa offers no API to delete a conversation (``PUT .../tracker/events`` only appends to a SQL store), so
    erasure goes to its database directly; the services know its URL from ``rasa_tracker_url``.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.url)
        return self._engine

    def _events(self) -> Table | None:
        """Rasa's events table, or None while Rasa has not created its store (nothing to find or erase)."""
        sqlite_prefix = "sqlite:///"
        if self.url.startswith(sqlite_prefix) and not Path(self.url[len(sqlite_prefix):]).exists():
            return None
        metadata = MetaData()
        metadata.reflect(self.engine, only=lambda name, _m: name == "events")
        return metadata.tables.get("events")

    def find(self, needles: Iterable[str]) -> set[str]:
        events = self._events()
        if events is None:
            return set()
        clauses = [func.lower(events.c.data).contains(n.lower(), autoescape=True) for n in needles]
        with self.engine.connect() as connection:
            return {row[0] for row in connection.execute(select(events.c.sender_id).where(or_(*clauses)).distinct())}

    def export(self, sender_id: str) -> list[dict[str, Any]]:
        events = self._events()
        if events is None:
            return []
        with self.engine.connect() as connection:
            rows = connection.execute(select(events).where(events.c.sender_id == sender_id).order_by(events.c.id))
            return [_plain(dict(r._mapping)) for r in rows]

    def delete(self, sender_ids: list[str]) -> int:
        events = self._events()
        if events is None or not sender_ids:
            return 0
        with self.engine.begin() as connection:
            return connection.execute(delete(events).where(events.c.sender_id.in_(sender_ids))).rowcount or 0

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _plain(value: Any) -> Any:
    """A row value as JSON-friendly data."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


@dataclass(frozen=True)
class Identifier:
    """What a lead searches by: an e-mail, a CPF, a phone number or a conversation id (one or more)."""

    email: str = ""
    cpf: str = ""
    phone: str = ""
    conversation_id: str = ""
    customer_id: str = ""  # the host site's id of a signed-in customer (services/chat/identity.py)

    def needles(self) -> list[str]:
        """The forms in which each identifier can appear in stored text."""
        found: list[str] = []
        if self.email.strip():
            found.append(self.email.strip().lower())
        cpf = digits_of(self.cpf)
        if len(cpf) == 11:
            found += [cpf, f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"]
        phone = digits_of(self.phone)
        if len(phone) >= 8:
            found.append(phone)
            local = phone[2:] if phone.startswith("55") and len(phone) > 11 else phone
            if len(local) in (10, 11):  # (11) 98765-4321 and 11 98765-4321, as Brazilians write them
                found += [f"({local[:2]}) {local[2:-4]}-{local[-4:]}", f"{local[:2]} {local[2:-4]}-{local[-4:]}",
                          f"{local[2:-4]}-{local[-4:]}"]
        return found

    def empty(self) -> bool:
        return not (self.needles() or self.conversation_id.strip() or self.customer_id.strip())


@dataclass
class Outcome:
    """What an erasure or anonymisation changed, by store (counts only: nothing personal)."""

    mode: str
    conversations: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, store: str, count: int) -> None:
        if count:
            self.rows[store] = self.rows.get(store, 0) + count


class SubjectData:
    """Find, export, erase and anonymise one customer's conversations."""

    def __init__(self, db: Database, tracker: TrackerStore | None = None, schema: Schema | None = None) -> None:
        self.db = db
        self.tracker = tracker
        self.schema = schema or Schema.of()

    # -- finding -------------------------------------------------------------------------------------------
    def find(self, who: Identifier) -> list[str]:
        """Ids of every conversation that mentions the identifier anywhere, oldest first."""
        needles = who.needles()
        ids: set[str] = set()
        conv = self.schema.conversations
        with self.db.engine.connect() as connection:
            if who.conversation_id.strip():
                ids |= set(connection.scalars(select(conv.c.id).where(conv.c.id == who.conversation_id.strip())))
            if who.customer_id.strip() and "customer_id" in conv.c:
                ids |= set(connection.scalars(select(conv.c.id).where(conv.c.customer_id == who.customer_id.strip())))
            if needles:
                for table in (conv, *self.schema.direct):
                    key = table.c.id if table is conv else table.c.conversation_id
                    clauses = [_lower_text(c).contains(n, autoescape=True)
                               for c in table.columns if _texty(c.type) and c is not key for n in needles]
                    if clauses:
                        ids |= set(connection.scalars(select(key).where(or_(*clauses)).distinct()))
                for child, fk, parent, parent_key in self.schema.children:
                    clauses = [_lower_text(c).contains(n, autoescape=True)
                               for c in child.columns if _texty(c.type) for n in needles]
                    if clauses:
                        ids |= set(connection.scalars(select(parent.c.conversation_id).where(
                            parent_key.in_(select(fk).where(or_(*clauses))))))
        if needles and self.tracker is not None:
            ids |= self.tracker.find(needles)
        if not ids:
            return []
        with self.db.engine.connect() as connection:  # only conversations the services know, oldest first
            known = connection.execute(select(conv.c.id).where(conv.c.id.in_(ids)).order_by(conv.c.created_at))
            ordered = [row[0] for row in known]
        return ordered + sorted(ids - set(ordered))

    def summaries(self, ids: list[str]) -> list[dict[str, Any]]:
        """A line per conversation for the lead to check before exporting or erasing."""
        conv = self.schema.conversations
        with self.db.engine.connect() as connection:
            rows = connection.execute(select(conv).where(conv.c.id.in_(ids)).order_by(conv.c.created_at))
            found = {r.id: r for r in rows}
        return [{"id": i, "created_at": _plain(found[i].created_at) if i in found else None,
                 "language": found[i].language if i in found else None,
                 "status": found[i].status if i in found else "only in Rasa's tracker store"} for i in ids]

    # -- exporting -----------------------------------------------------------------------------------------
    def export(self, ids: list[str]) -> dict[str, Any]:
        """Everything stored about these conversations, as JSON-friendly data (the customer's copy)."""
        conv = self.schema.conversations
        result: list[dict[str, Any]] = []
        with self.db.engine.connect() as connection:
            for conversation_id in ids:
                row = connection.execute(select(conv).where(conv.c.id == conversation_id)).first()
                item: dict[str, Any] = {"conversation_id": conversation_id,
                                        "conversation": _plain(dict(row._mapping)) if row else None, "tables": {}}
                for table in self.schema.direct:
                    rows = [_plain(dict(r._mapping)) for r in connection.execute(
                        select(table).where(table.c.conversation_id == conversation_id))]
                    if rows:
                        item["tables"][table.name] = rows
                for child, fk, parent, parent_key in self.schema.children:
                    rows = [_plain(dict(r._mapping)) for r in connection.execute(select(child).where(fk.in_(
                        select(parent_key).where(parent.c.conversation_id == conversation_id))))]
                    if rows:
                        item["tables"][child.name] = rows
                if self.tracker is not None:
                    item["rasa_tracker_events"] = self.tracker.export(conversation_id)
                result.append(item)
        return {"exported_at": utcnow().isoformat() + "Z", "conversations": result}

    # -- erasing and anonymising ---------------------------------------------------------------------------
    def erase(self, ids: list[str]) -> Outcome:
        """Delete the conversations and everything that hangs off them, in every store."""
        outcome = Outcome("erase", conversations=len(ids))
        if not ids:
            return outcome
        conv = self.schema.conversations
        with self.db.engine.begin() as connection:
            for child, fk, parent, parent_key in self.schema.children:
                outcome.add(child.name, connection.execute(delete(child).where(fk.in_(
                    select(parent_key).where(parent.c.conversation_id.in_(ids))))).rowcount or 0)
            for table in self.schema.direct:
                outcome.add(table.name, connection.execute(
                    delete(table).where(table.c.conversation_id.in_(ids))).rowcount or 0)
            outcome.add(WEBHOOK_OUTBOX, self._delete_outbox(connection, ids))
            outcome.add(conv.name, connection.execute(delete(conv).where(conv.c.id.in_(ids))).rowcount or 0)
        if self.tracker is not None:
            outcome.add("rasa_tracker_events", self.tracker.delete(ids))
        return outcome

    def anonymise(self, ids: list[str], reason: str = "request") -> Outcome:
        """Keep the conversations' shape for the metrics; remove every text and contact detail."""
        outcome = Outcome("anonymise", conversations=len(ids))
        if not ids:
            return outcome
        tables = Base.metadata.tables
        with self.db.engine.begin() as connection:
            marks = tables["privacy_anonymised"]
            known = set(connection.scalars(select(marks.c.conversation_id).where(marks.c.conversation_id.in_(ids))))
            fresh = [{"conversation_id": i, "anonymised_at": utcnow(), "reason": reason} for i in ids if i not in known]
            if fresh:
                connection.execute(marks.insert(), fresh)
            conv = self.schema.conversations
            personal = [c.name for c in conv.columns if _personal_column(c.name)]
            if personal:
                outcome.add(conv.name, connection.execute(update(conv).where(conv.c.id.in_(ids)).values(
                    {name: None for name in personal})).rowcount or 0)
            messages = tables.get("chat_messages")
            if messages is not None:
                outcome.add(messages.name, connection.execute(update(messages).where(
                    messages.c.conversation_id.in_(ids)).values(text=ERASED_TEXT, payload={}, author_name=None)
                ).rowcount or 0)
            for name in ("chat_contact_requests",):
                if name in tables:
                    table = tables[name]
                    outcome.add(name, connection.execute(delete(table).where(
                        table.c.conversation_id.in_(ids))).rowcount or 0)
            handoffs = tables.get("handoff_handoffs")
            if handoffs is not None:
                outcome.add(handoffs.name, connection.execute(update(handoffs).where(
                    handoffs.c.conversation_id.in_(ids)).values(transcript={}, contact=None, reason_detail="",
                                                                resolution_note=None)).rowcount or 0)
            notes = tables.get("handoff_notes")
            if handoffs is not None and notes is not None:
                outcome.add(notes.name, connection.execute(update(notes).where(notes.c.handoff_id.in_(
                    select(handoffs.c.id).where(handoffs.c.conversation_id.in_(ids)))).values(text=ERASED_TEXT)
                ).rowcount or 0)
            kb_events = tables.get("kb_events")
            if kb_events is not None:
                outcome.add(kb_events.name, connection.execute(update(kb_events).where(
                    kb_events.c.conversation_id.in_(ids)).values(query=None)).rowcount or 0)
            outcome.add("conversation_events", self._strip_events(connection, ids))
            outcome.add(WEBHOOK_OUTBOX, self._delete_outbox(connection, ids))
        if self.tracker is not None:
            outcome.add("rasa_tracker_events", self.tracker.delete(ids))
        return outcome

    @staticmethod
    def _strip_events(connection: Any, ids: list[str]) -> int:
        """Rewrite each event's data to the non-personal keys (the one sanctioned change of the event log:
        it goes through SQL, not the ORM, whose guard keeps every other feature from rewriting history)."""
        events = Base.metadata.tables["conversation_events"]
        changed = 0
        rows = connection.execute(select(events.c.id, events.c.data).where(events.c.conversation_id.in_(ids))).all()
        for event_id, data in rows:
            kept = {k: v for k, v in (data or {}).items() if k in EVENT_KEYS_KEPT}
            if kept != data:
                connection.execute(update(events).where(events.c.id == event_id).values(data=kept))
                changed += 1
        return changed

    @staticmethod
    def _delete_outbox(connection: Any, ids: list[str]) -> int:
        outbox = Base.metadata.tables.get(WEBHOOK_OUTBOX)
        if outbox is None:
            return 0
        count = 0
        for conversation_id in ids:  # the id is random and 32+ characters: no false matches
            count += connection.execute(delete(outbox).where(
                outbox.c.body.contains(conversation_id, autoescape=True))).rowcount or 0
        return count


# customer_id / visitor_id link a conversation to a person (the shop's account, the browser): gone with the rest.
_PERSONAL = re.compile(r"(comment|name|email|e_mail|phone|cpf|document|address|customer_id|visitor_id)$")


def _personal_column(name: str) -> bool:
    """Columns of the conversation row that name or describe the customer (erased when anonymising)."""
    return bool(_PERSONAL.search(name))
