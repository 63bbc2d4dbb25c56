"""Labelling inbox messages: confirm, relabel, out of scope or ignore -> examples written, decisions recorded.

Why everything happens inside the data folder's lock (training_data.data_lock): "already decided?", "already an
example of another intent?", the file write and the decision record must see one consistent state, or two leads
labelling at once could write one text into two intents or decide one message twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from services.db import Database
from services.privacy.rules import redact
from services.workspace import audit, curation_store
from services.workspace.config import WorkspaceConfig
from services.workspace.example_text import BotVocabulary, RefusedText, clean, deidentify
from services.workspace.inbox import FALLBACK_INTENT, InboxMessage, read_messages
from services.workspace.training_data import TrainingDataError, add_examples, data_lock, examples_in

ACTIONS = ("confirm", "intent", "out_of_scope", "ignore")
# The intent the bot uses for questions outside its domain (domain.yml, bot/data/nlu/*.yml: out_of_scope).
OUT_OF_SCOPE = "out_of_scope"


class LabelError(ValueError):
    """The request itself is wrong (unknown intent, missing intent): a 422 naming the problem."""


def domain_intents(domain: Path) -> list[str]:
    raw = yaml.safe_load(domain.read_text(encoding="utf-8")) or {}
    return [i if isinstance(i, str) else next(iter(i)) for i in raw.get("intents") or []]


def shown(text: str, limit: int = 160) -> str:
    """A message as echoed back to the lead and into the audit: personal data masked, long text cut."""
    masked = redact(" ".join(str(text).split()))
    return masked if len(masked) <= limit else masked[:limit] + "…"


def relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


@dataclass
class Result:
    written: list[dict[str, Any]]
    refused: list[dict[str, Any]]
    unchanged: list[dict[str, Any]]
    ignored: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"written": self.written, "refused": self.refused, "ignored": self.ignored,
                "unchanged": self.unchanged}


def _target_intent(action: str, chosen: str | None, msg: InboxMessage) -> str | None:
    if action == "out_of_scope":
        return OUT_OF_SCOPE
    if action == "confirm" and not chosen:
        return msg.intent if msg.intent and msg.intent != FALLBACK_INTENT else None
    return chosen


def label(db: Database, config: WorkspaceConfig, lead: Any, event_ids: list[int], action: str,
          intent: str | None) -> Result:
    """Apply one lead decision to messages; refusals are per message (the others still land)."""
    if action not in ACTIONS:
        raise LabelError(f"ação desconhecida {action!r}; use uma de: {', '.join(ACTIONS)}")
    intents = set(domain_intents(config.paths.domain))
    if action == "intent" and not intent:
        raise LabelError("escolha a intenção (campo 'intent') para 'intent'")
    if action == "out_of_scope" and OUT_OF_SCOPE not in intents:
        raise LabelError(f"o bot não tem a intenção {OUT_OF_SCOPE!r} no domain.yml")
    if intent and action != "ignore" and intent not in intents:
        raise LabelError(f"a intenção {intent!r} não existe no domain.yml")
    inbox = config.file.inbox
    paths = config.paths
    result = Result(written=[], refused=[], unchanged=[])
    with db.session() as s:
        found = {m.event_id: m for m in read_messages(s, low_confidence=inbox.low_confidence, event_ids=event_ids)}
    for missing in [i for i in dict.fromkeys(event_ids) if i not in found]:
        result.refused.append({"event_id": missing, "text": "",
                               "reason": f"a mensagem {missing} não existe ou não foi lida pelo bot"})
    if not found:
        return result
    vocabulary = BotVocabulary.load(paths.domain, paths.bot_data)
    with data_lock(paths.bot_data), db.session() as s:
        decided = curation_store.decided_event_ids(s, found)
        batches: dict[tuple[str, str], list[tuple[InboxMessage, str, list[str]]]] = defaultdict(list)
        for event_id, msg in found.items():
            before = {"event_id": event_id, "text": shown(msg.text), "predicted": msg.intent,
                      "confidence": msg.confidence, "reasons": msg.reasons}
            if event_id in decided:
                result.refused.append({"event_id": event_id, "text": shown(msg.text),
                                       "reason": "esta mensagem já foi decidida por um líder"})
                continue
            if action == "ignore":
                curation_store.add(s, lead, curation_store.IGNORED, event_id=event_id,
                                   conversation_id=msg.conversation_id, text=shown(msg.text, 300), intent=None,
                                   language=msg.language, file=None)
                audit.add(s, "example_ignored", lead, f"event:{event_id}", before, {"ignored": True})
                result.ignored += 1
                continue
            target = _target_intent(action, intent, msg)
            if target is None:
                result.refused.append({"event_id": event_id, "text": shown(msg.text),
                                       "reason": "o bot não previu uma intenção para confirmar; escolha outra"})
                continue
            if target not in intents:
                result.refused.append({"event_id": event_id, "text": shown(msg.text),
                                       "reason": f"a intenção {target!r} não existe no domain.yml"})
                continue
            try:
                example, _kinds = deidentify(clean(msg.text, inbox.max_example_chars), vocabulary)
            except RefusedText as error:
                result.refused.append({"event_id": event_id, "text": shown(msg.text), "reason": str(error)})
                continue
            batches[(msg.language, target)].append((msg, example, _kinds))
        held_out = examples_in(paths.held_out) if batches else {}
        for (language, target), items in batches.items():
            try:
                path, outcomes = add_examples(paths.bot_data, language, target, [example for _, example, _ in items],
                                              held_out)
            except TrainingDataError as error:
                for msg, _, _ in items:
                    result.refused.append({"event_id": msg.event_id, "text": shown(msg.text),
                                           "reason": f"não foi possível gravar: {error}"})
                continue
            file = relative(path, paths.root)
            for (msg, example, replaced), outcome in zip(items, outcomes, strict=True):
                if outcome.status == "held_out":
                    result.refused.append({"event_id": msg.event_id, "text": example,
                                           "reason": "este texto é uma das mensagens de avaliação (bot/evaluation); "
                                                     "treinar com ela esconderia pioras do modelo"})
                    continue
                if outcome.status == "other_intent":
                    result.refused.append({"event_id": msg.event_id, "text": example,
                                           "reason": f"este texto já é exemplo da intenção {outcome.existing!r}"})
                    continue
                written = outcome.status == "written"
                curation_store.add(s, lead, curation_store.ADDED if written else curation_store.UNCHANGED,
                                   event_id=msg.event_id, conversation_id=msg.conversation_id, text=example,
                                   intent=target, language=language, file=file)
                if written:
                    audit.add(s, "example_added", lead, f"intent:{target}",
                              {"event_id": msg.event_id, "text": shown(msg.text), "predicted": msg.intent,
                               "confidence": msg.confidence, "reasons": msg.reasons},
                              {"text": example, "intent": target, "file": file, "language": language,
                               "replaced": replaced})
                    result.written.append({"event_id": msg.event_id, "text": example, "intent": target,
                                           "file": file})
                else:
                    result.unchanged.append({"event_id": msg.event_id, "text": example, "intent": target,
                                             "reason": "já era exemplo desta intenção"})
    return result
