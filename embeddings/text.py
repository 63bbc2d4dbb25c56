"""Input checks shared by every backend: what counts as a text, and how odd input is made safe.

Why here: the featurizer and retrieval both feed customer text to the encoder; a bytes object, a None or
a NUL byte must give the same clear behaviour whichever backend is configured. Empty or blank texts are
embedded as ``"."`` (a neutral, valid input) rather than rejected: a customer can send an empty message.
"""

from __future__ import annotations

from collections.abc import Iterable

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


def clean_texts(texts: Iterable[str] | str) -> list[str]:
    """A list of safe strings, or TypeError naming the bad item (bytes, None, numbers...)."""
    if isinstance(texts, str):
        texts = [texts]
    out: list[str] = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text #{i} is {type(text).__name__}, expected str (decode bytes first)")
        # NUL would end the text early in C engines; lone surrogates cannot be encoded as UTF-8
        text = text.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")
        out.append(text if text.strip() else ".")
    return out
