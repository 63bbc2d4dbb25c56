"""Index terms for pt/en: the shared folding and stop words (textnorm), then stemming or lemmas.

Customers type without accents ("devolucao", "nao"), so accents are folded *before* stemming; stemming an
accented and an unaccented spelling then gives the same term. Folding, word splitting and the stop-word
lists live in ``textnorm`` (shared with the help center and the bot); only the stemming is retrieval's own.
"""

from __future__ import annotations

from functools import lru_cache

from textnorm import STOPWORDS, fold, words

_STEMMER_LANG = {"pt": "portuguese", "en": "english"}


@lru_cache(maxsize=4)
def _stemmer(lang: str):  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer (snowball); imported lazily so text utilities stay cheap

    return Stemmer.Stemmer(_STEMMER_LANG.get(lang, "english"))


@lru_cache(maxsize=4)
def _lemma_table(lang: str):  # type: ignore[no-untyped-def]
    """spaCy lookup lemmas (spacy-lookups-data) for the 'lemma' normaliser; keys are accented words."""
    from spacy.lookups import load_lookups

    return load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup")


class Analyzer:
    """Turns text into index terms for one language with the configured normaliser.

    ``normalizer``: ``snowball`` (PyStemmer), ``lemma`` (spaCy lookup lemmas) or ``none``.
    """

    def __init__(self, normalizer: str = "snowball", stopwords: bool = True) -> None:
        if normalizer not in {"snowball", "lemma", "none"}:
            raise ValueError(f"unknown lexical normalizer {normalizer!r} (snowball, lemma, none)")
        self.normalizer = normalizer
        self.stopwords = stopwords

    def terms(self, text: str, lang: str) -> list[str]:
        """Index terms of ``text`` read as language ``lang`` (pt or en)."""
        lang = lang if lang in STOPWORDS else "en"
        stop = STOPWORDS[lang] if self.stopwords else frozenset()
        if self.normalizer == "lemma":
            table = _lemma_table(lang)
            out = []
            for tok in words(text, keep_accents=True):
                if fold(tok) not in stop:
                    out.append(fold(table.get(tok, tok)))
            return out
        tokens = [t for t in words(text) if t not in stop]
        if self.normalizer == "snowball":
            return _stemmer(lang).stemWords(tokens)
        return tokens
