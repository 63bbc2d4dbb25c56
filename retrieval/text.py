"""Lexical normalisation for pt/en: lowercase, accent stripping, stop words and stemming.

Customers type without accents ("devolucao", "nao"), so accents are stripped *before* stemming;
stemming an accented and an unaccented spelling then gives the same term.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)

# Small stop lists: BM25's IDF already discounts frequent words; these only drop the glue words that
# carry no topic and would otherwise inflate lexical coverage of off-topic questions.
def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


STOPWORDS: dict[str, frozenset[str]] = {
    "pt": _wordset(
        """a o as os um uma uns umas de do da dos das no na nos nas em por para pra pro com sem e ou que
        se me te lhe nos vos eu tu ele ela eles elas voce vc voces meu minha meus minhas seu sua seus suas
        isso isto esse essa este esta aquele aquela ao aos como qual quais quando onde quem pq porque
        porque e foi ser ter tem tenho estou esta estao sao era ja mais muito muita mas nao sim tb tambem
        ai la aqui entao so ate sobre entre depois antes the
        vcs tbm tb blz oq q eh ta to msm ne quanto quanta quantos quantas ola oi"""
    ),
    "en": _wordset(
        """a an the of to in on at for from by with without and or but if then so is are was were be been
        being am do does did have has had i me my mine you your yours he she it its we our they their them
        this that these those what which who whom how when where why can could would should will shall may
        might must not no yes as into about just also there here than too very get got
        u ur pls plz hi hello thanks thx im"""
    ),
}

_STEMMER_LANG = {"pt": "portuguese", "en": "english"}


def strip_accents(text: str) -> str:
    """Remove combining marks so "devolução" and "devolucao" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def raw_tokens(text: str) -> list[str]:
    """Lowercased, accent-free word tokens (letters and digits)."""
    return _TOKEN_RE.findall(strip_accents(text.lower()))


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
            for tok in _TOKEN_RE.findall(text.lower()):
                plain = strip_accents(tok)
                if plain not in stop:
                    out.append(strip_accents(table.get(tok, tok)))
            return out
        tokens = [t for t in raw_tokens(text) if t not in stop]
        if self.normalizer == "snowball":
            return _stemmer(lang).stemWords(tokens)
        return tokens
