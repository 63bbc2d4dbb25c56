"""Find personal data in text: candidate patterns, then validation (check digits, real area codes).

Candidates are deliberately loose (any punctuation customers use); validation decides. The validators are
pluggable (:class:`Rules`) so the services environment can use maintained libraries while the Rasa
environment uses the stdlib checks in :mod:`pii.checks` — the candidates, priorities and masks stay shared.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pii import checks

EMAIL = re.compile(
    r"(?<![\w.%+-])[\w.%+-]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*\.[A-Za-z]{2,}(?![\w-])"
)
CPF = re.compile(r"(?<![\d])\d{3}[.\s]?\d{3}[.\s]?\d{3}[-.\s]?\d{2}(?![\d])")
CNPJ = re.compile(r"(?<![\d])\d{2}\.?\d{3}\.?\d{3}/?\d{4}[-.]?\d{2}(?![\d])")
CARD = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
# Brazilian phone with area code: +55 (11) 98765-4321, 011 3456 7890, 11987654321, 55 11 98765 4321 …
BR_PHONE = re.compile(
    r"(?<![\w+])(?:\+?55[\s.-]?)?(?:\(\s*0?(?P<ddd1>\d{2})\s*\)|0?(?P<ddd2>\d{2}))[\s.-]?"
    r"(?P<first>9?\d{4})[\s.-]?(?P<last>\d{4})(?![\w])"
)
# Other countries, written the international way: + country code, 8–15 digits in all (E.164).
INTL_PHONE = re.compile(r"(?<![\w+])\+(?!55)[1-9]\d{0,2}(?:[\s.-]?\(?\d{1,5}\)?){2,6}(?![\w])")

# Cheap gates (most log lines have neither): every number kind needs a run of at least 10 digits (Brazilian
# phone with area code; CPF, CNPJ and cards are longer), allowing the separators the patterns allow; other
# countries' phone numbers need a "+".
LONG_DIGIT_RUN = re.compile(r"\d(?:[\s.()/-]{0,3}\d){9,}")

# When two candidates overlap, the first kind in this order wins (an e-mail may contain digits; a CPF and a
# phone can share digits; a CNPJ is 14 digits like some cards).
PRIORITY = ("email", "cnpj", "cpf", "card", "phone")


@dataclass(frozen=True)
class Finding:
    kind: str  # one of PRIORITY
    start: int
    end: int
    text: str


def builtin_phone_spans(text: str) -> Iterable[tuple[int, int]]:
    """Phone numbers by pattern and Brazilian numbering rules (stdlib fallback for phonenumbers)."""
    for match in BR_PHONE.finditer(text):
        area = match.group("ddd1") or match.group("ddd2")
        if checks.br_phone_ok(area, match.group("first") + match.group("last")):
            yield match.start(), match.end()
    for match in INTL_PHONE.finditer(text):
        if 8 <= len(checks.digits_of(match.group())) <= 15:
            yield match.start(), match.end()


@dataclass(frozen=True)
class Rules:
    """How candidates are validated; the defaults use only the standard library."""

    cpf: Callable[[str], bool] = checks.cpf_ok
    cnpj: Callable[[str], bool] = checks.cnpj_ok
    card: Callable[[str], bool] = checks.card_ok
    phone_spans: Callable[[str], Iterable[tuple[int, int]]] = builtin_phone_spans


DEFAULT_RULES = Rules()


def _candidates(text: str, rules: Rules) -> Iterable[Finding]:
    found: list[Finding] = []
    if "@" in text:
        found += [Finding("email", m.start(), m.end(), m.group()) for m in EMAIL.finditer(text)]
    long_run = LONG_DIGIT_RUN.search(text) is not None
    if long_run:
        for kind, pattern, valid in (("cnpj", CNPJ, rules.cnpj), ("cpf", CPF, rules.cpf),
                                     ("card", CARD, rules.card)):
            found += [Finding(kind, m.start(), m.end(), m.group()) for m in pattern.finditer(text)
                      if valid(m.group())]
    yield from found
    if long_run or "+" in text:
        # Phones have the lowest priority: hide what was already found (same length, offsets unchanged) so
        # the phone finder does not spend time on a CPF's or a card's digits.
        chars = list(text)
        for finding in found:
            chars[finding.start:finding.end] = " " * (finding.end - finding.start)
        for start, end in rules.phone_spans("".join(chars)):
            yield Finding("phone", start, end, text[start:end])


def find(text: str, rules: Rules = DEFAULT_RULES) -> list[Finding]:
    """Non-overlapping findings in text order."""
    if not text or not any(ch.isdigit() or ch == "@" for ch in text):
        return []
    rank = {kind: i for i, kind in enumerate(PRIORITY)}
    chosen: list[Finding] = []
    for finding in sorted(_candidates(text, rules), key=lambda f: (rank[f.kind], f.start, -(f.end - f.start))):
        if all(finding.end <= other.start or finding.start >= other.end for other in chosen):
            chosen.append(finding)
    return sorted(chosen, key=lambda f: f.start)
