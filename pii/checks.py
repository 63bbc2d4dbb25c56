"""Check-digit and plausibility tests for Brazilian documents, card numbers and Brazilian phone numbers.

Why check digits: an 11-digit order or protocol number must not be masked as a CPF, and a 16-digit tracking
code must not be masked as a card. Only numbers whose check digits are right (CPF/CNPJ: mod 11; cards: Luhn)
count. These are the stdlib fallbacks for the Rasa environment; the services environment uses validate-docbr
for CPF/CNPJ and phonenumbers for phones (see ``services/privacy/rules.py``).
"""

from __future__ import annotations


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def cpf_ok(text: str) -> bool:
    """CPF: 11 digits, not all equal, two mod-11 check digits."""
    digits = digits_of(text)
    if len(digits) != 11 or len(set(digits)) == 1:
        return False
    numbers = [int(d) for d in digits]
    for position in (9, 10):
        total = sum(n * weight for n, weight in zip(numbers[:position], range(position + 1, 1, -1), strict=True))
        check = (total * 10) % 11 % 10
        if check != numbers[position]:
            return False
    return True


def cnpj_ok(text: str) -> bool:
    """CNPJ: 14 digits, not all equal, two mod-11 check digits with weights 5..2,9..2 and 6..2,9..2."""
    digits = digits_of(text)
    if len(digits) != 14 or len(set(digits)) == 1:
        return False
    numbers = [int(d) for d in digits]
    for position, weights in ((12, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]),
                              (13, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])):
        remainder = sum(n * w for n, w in zip(numbers[:position], weights, strict=True)) % 11
        check = 0 if remainder < 2 else 11 - remainder
        if check != numbers[position]:
            return False
    return True


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, ch in enumerate(reversed(digits)):
        n = int(ch)
        if index % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def card_ok(text: str) -> bool:
    """Payment card: 13–19 digits, an issuer prefix that exists (2–6: Mastercard, Amex/Diners, Visa, Elo,
    Hipercard, Discover…) and a valid Luhn sum."""
    digits = digits_of(text)
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_ok(digits)


# Brazilian area codes (DDD) in use (Anatel). A number with a made-up area code is not a phone.
BR_AREA_CODES = frozenset({
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 24, 27, 28, 31, 32, 33, 34, 35, 37, 38,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 51, 53, 54, 55, 61, 62, 63, 64, 65, 66, 67, 68, 69,
    71, 73, 74, 75, 77, 79, 81, 82, 83, 84, 85, 86, 87, 88, 89, 91, 92, 93, 94, 95, 96, 97, 98, 99,
})


def br_phone_ok(area_code: str, subscriber: str) -> bool:
    """A Brazilian number with area code: mobile = 9 + 8 digits; landline = 8 digits starting with 2–5."""
    if not area_code.isdigit() or int(area_code) not in BR_AREA_CODES:
        return False
    if len(subscriber) == 9:
        return subscriber[0] == "9"
    return len(subscriber) == 8 and subscriber[0] in "2345"
