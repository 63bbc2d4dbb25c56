"""Validators backed by validate-docbr and phonenumbers, plugged into the shared detector of ``pii/``.

Why libraries here: phone numbering plans change (new area codes, mobile ranges, every country's lengths)
and phonenumbers tracks them; validate-docbr is the maintained Brazilian document validator. Cards keep the
Luhn check from ``pii.checks`` (the algorithm is fixed by ISO/IEC 7812 and needs no data).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers
from validate_docbr import CNPJ, CPF

from pii import Finding, Redactor, Rules
from pii import find as _find
from pii.checks import card_ok, digits_of
from pii.logs import install

_cpf, _cnpj = CPF(), CNPJ()
# Windows worth handing to phonenumbers: a run of digits with the punctuation people use in phone numbers,
# at least 10 digits (Brazilian area code + number) or 8 after a "+" (shortest international numbers).
# Scanning only these keeps log lines without phone-like runs (order numbers, ports, dates) cheap.
_PHONE_WINDOW = re.compile(r"\+?\(?\d[\d\s().-]{6,}\d")
# Not personal: company numbers customers are told to call.
_NOT_PERSONAL = {phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE,
                 phonenumbers.PhoneNumberType.SHARED_COST}


def _cpf_ok(text: str) -> bool:
    return _cpf.validate(digits_of(text))


def _cnpj_ok(text: str) -> bool:
    return _cnpj.validate(digits_of(text))


def phone_spans(text: str) -> Iterable[tuple[int, int]]:
    """Valid phone numbers (region BR for numbers without a country code) as (start, end) offsets."""
    for window in _PHONE_WINDOW.finditer(text):
        if sum(ch.isdigit() for ch in window.group()) < (8 if window.group().startswith("+") else 10):
            continue
        for match in phonenumbers.PhoneNumberMatcher(window.group(), "BR", leniency=phonenumbers.Leniency.VALID):
            if phonenumbers.number_type(match.number) in _NOT_PERSONAL:
                continue
            yield window.start() + match.start, window.start() + match.end


LIBRARY_RULES = Rules(cpf=_cpf_ok, cnpj=_cnpj_ok, card=card_ok, phone_spans=phone_spans)
_redactor = Redactor(LIBRARY_RULES)


def find(text: str) -> list[Finding]:
    return _find(text, LIBRARY_RULES)


def redact(text: str) -> str:
    """Mask CPF, CNPJ, e-mail, phone and card numbers in text."""
    return _redactor.text(text)


def redact_log_text(text: str) -> str:
    """:func:`redact` plus URL-encoded personal data and secret query parameters (``?token=``)."""
    return _redactor.log_text(text)


def install_log_redaction() -> None:
    """Mask personal data in every log record this process writes (uvicorn's access log included)."""
    install(redact_log_text)
