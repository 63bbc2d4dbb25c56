"""Shared text rules for every part of Lumo: accent folding, words, stop words, order numbers, article files.

Why a top-level package: the bot runs in the Rasa environment (Python 3.10) and must not import the
services, handoff or retrieval code of the other environment, yet both sides must fold "não" to "nao" and
read "#2048 1234" as order 20481234 the same way. This package depends on the standard library and PyYAML
only and imports nothing else from the repository, so both environments use it.

* :mod:`textnorm.normalise`: :func:`fold`, :func:`normalise`, :func:`words`
* :mod:`textnorm.stopwords`: ``STOPWORDS`` per language, ``ALL_STOPWORDS``, :func:`stopwords_for`
* :mod:`textnorm.orders`: :func:`normalise_order_number`
* :mod:`textnorm.frontmatter`: help-center article files (imported on its own: it needs PyYAML)
"""

from textnorm.normalise import WORD_RE, fold, normalise, words
from textnorm.orders import ORDER_NUMBER_DIGITS, normalise_order_number
from textnorm.stopwords import ALL_STOPWORDS, STOPWORDS, stopwords_for

__all__ = [
    "ALL_STOPWORDS",
    "ORDER_NUMBER_DIGITS",
    "STOPWORDS",
    "WORD_RE",
    "fold",
    "normalise",
    "normalise_order_number",
    "stopwords_for",
    "words",
]
