"""Order numbers as customers type them → the 8-digit form the order system stores.

Why here: the bot validates the number it asks for and the order API validates the number in its URL; with
two rules, a number the bot accepted could be refused by the API (or the other way round).
"""

from __future__ import annotations

ORDER_NUMBER_DIGITS = 8


def normalise_order_number(value: object) -> str | None:
    """Keep the digits of ``#20481234``, ``PED-20481234``, ``2048 1234``; None unless exactly 8 digits.

    Any decimal digit counts and comes back as ASCII ("２０４８１２３４" from a phone keyboard works); anything
    that is not text (None, a list from an entity extractor) gives None.
    """
    if not isinstance(value, str):
        return None
    digits = "".join(str(int(c)) for c in value if c.isdecimal())
    return digits if len(digits) == ORDER_NUMBER_DIGITS else None
