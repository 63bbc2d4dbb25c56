"""A customer's message -> a training example: refuse what cannot be one, replace personal identifiers.

Why before anything is written: training data is committed to git, shipped inside every model and read by
whoever maintains the bot; a customer's CPF, e-mail, phone, card or order number must never reach it. Order
numbers (and e-mails, CPFs where the bot has such an entity) become entity annotations with a neutral value,
so the bot still learns "a number goes here"; the other identifiers become neutral example values.

Why refuse HTML, control characters and Rasa markup: an example is one line of a YAML block that Rasa reads
with its own markup (``[text](entity)``); anything else would break the file or teach the bot nonsense.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from services.privacy.rules import find as find_personal_data

# entities.yml's order_number regexes (kept in step by test_order_numbers_follow_the_bot_regex).
DEFAULT_ORDER_PATTERNS = (r"(?:#|\bPED-?\s?|\b)\d{8}\b", r"\b\d{4}\s\d{4}\b")
HTML_RE = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>|&(?:[A-Za-z]{2,8}|#\d{1,6}|#x[0-9A-Fa-f]{1,6});")
MARKUP_RE = re.compile(r"\][\(\{]")
NEUTRAL = {"email": "cliente@exemplo.com", "cpf": "123.456.789-09", "cpf_digits": "12345678909",
           "cnpj": "12.345.678/0001-95", "card": "4111 1111 1111 1111", "phone": "(11) 91234-5678"}
# Identifier kind -> the bot's entity that may annotate it (used only if domain.yml declares that entity).
ENTITY_FOR = {"email": "email", "cpf": "cpf", "order": "order_number"}


class RefusedText(ValueError):
    """The text cannot become an example; the message says why, in words a lead understands."""


def clean(text: str, max_chars: int) -> str:
    """Whitespace collapsed to single spaces, or :class:`RefusedText` (empty, too long, binary, HTML, markup)."""
    if not isinstance(text, str):
        raise RefusedText("a mensagem não é texto")
    if "\x00" in text or "\ufffd" in text:
        raise RefusedText("a mensagem tem conteúdo binário (caracteres inválidos)")
    collapsed = " ".join(text.split())
    if not collapsed:
        raise RefusedText("a mensagem está vazia")
    if len(collapsed) > max_chars:
        raise RefusedText(f"a mensagem tem {len(collapsed)} caracteres; o limite de um exemplo é {max_chars}")
    bad = next((c for c in collapsed if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn")), None)
    if bad is not None:
        raise RefusedText(f"a mensagem tem um caractere de controle ou inválido (U+{ord(bad):04X})")
    if HTML_RE.search(collapsed):
        raise RefusedText("a mensagem contém HTML; exemplos de treino são só texto")
    if MARKUP_RE.search(collapsed):
        raise RefusedText("a mensagem contém '](' ou ']{', que o Rasa leria como marcação de entidade")
    if not any(c.isalnum() for c in collapsed):
        raise RefusedText("a mensagem não tem letras nem números")
    return collapsed


@dataclass(frozen=True)
class BotVocabulary:
    """What the bot declares: its entities (domain.yml) and its order-number regexes (nlu/entities.yml)."""

    entities: frozenset[str]
    order_patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def load(cls, domain: Path, bot_data: Path) -> BotVocabulary:
        raw = yaml.safe_load(domain.read_text(encoding="utf-8")) or {}
        entities = frozenset(e if isinstance(e, str) else next(iter(e)) for e in raw.get("entities") or [])
        patterns: list[str] = []
        regex_file = bot_data / "nlu" / "entities.yml"
        if regex_file.is_file():
            data = yaml.safe_load(regex_file.read_text(encoding="utf-8")) or {}
            for item in data.get("nlu") or []:
                if isinstance(item, dict) and item.get("regex") == ENTITY_FOR["order"]:
                    patterns += [line.strip()[2:] for line in str(item.get("examples", "")).splitlines()
                                 if line.strip().startswith("- ")]
        compiled = tuple(re.compile(p, re.IGNORECASE) for p in (patterns or DEFAULT_ORDER_PATTERNS))
        return cls(entities=entities, order_patterns=compiled)


def _annotate(value: str, kind: str, vocabulary: BotVocabulary) -> str:
    entity = ENTITY_FOR.get(kind)
    return f"[{value}]({entity})" if entity and entity in vocabulary.entities else value


def _neutral_order(found: str, index: int) -> str:
    """Same shape as the customer typed it (#, PED-, a space in the middle), neutral digits."""
    digits = f"{10002000 + index:08d}"
    out, i = [], 0
    for ch in found:
        if ch.isdigit() and i < len(digits):
            out.append(digits[i])
            i += 1
        else:
            out.append(ch)
    return "".join(out)


def deidentify(text: str, vocabulary: BotVocabulary) -> tuple[str, list[str]]:
    """The text with every personal identifier replaced, and the kinds replaced (for the lead and the audit)."""
    spans: list[tuple[int, int, str]] = []
    kinds: list[str] = []
    for finding in find_personal_data(text):
        kind = finding.kind
        value = NEUTRAL["cpf_digits"] if kind == "cpf" and finding.text.isdigit() else NEUTRAL[kind]
        spans.append((finding.start, finding.end, _annotate(value, kind, vocabulary)))
        kinds.append(kind)
    orders = 0
    for pattern in vocabulary.order_patterns:
        for match in pattern.finditer(text):
            if any(match.start() < end and match.end() > start for start, end, _ in spans):
                continue
            spans.append((match.start(), match.end(), _annotate(_neutral_order(match.group(), orders), "order",
                                                                 vocabulary)))
            orders += 1
            kinds.append("order")
    out = text
    for start, end, replacement in sorted(spans, reverse=True):
        out = out[:start] + replacement + out[end:]
    return out, kinds
