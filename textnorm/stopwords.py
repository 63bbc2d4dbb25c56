"""Stop words for pt and en: the glue words that carry no topic, in folded form (no accents, lower case).

Why one list: the knowledge-base index, the help-center text search and the escalation rules each drop
these words before comparing texts; with one list a word is noise everywhere or nowhere. The lists are kept
small on purpose (BM25's IDF already discounts frequent words) and include the informal spellings customers
type ("vc", "pq", "tb", "thx"). Entries are compared with words from :func:`textnorm.normalise.words`.
"""

from __future__ import annotations


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


STOPWORDS: dict[str, frozenset[str]] = {
    "pt": _wordset(
        """a o as os um uma uns umas de do da dos das no na nos nas em por para pra pro com sem e ou que
        se me te lhe vos eu tu ele ela eles elas voce vc voces meu minha meus minhas seu sua seus suas
        isso isto esse essa este esta aquele aquela ao aos como qual quais quando onde cade quem pq porque
        foi ser ter tem tenho estou estao sao era ja mais muito muita mas nao sim tb tambem
        ai la aqui entao so ate sobre entre depois antes the
        vcs tbm blz oq q eh ta to msm ne quanto quanta quantos quantas ola oi"""
    ),
    "en": _wordset(
        """a an the of to in on at for from by with without and or but if then so is are was were be been
        being am do does did have has had i me my mine you your yours he she it its we our they their them
        this that these those what which who whom how when where why can could would should will shall may
        might must not no yes as into about just also there here than too very get got
        u ur pls plz please hi hello thanks thx im"""
    ),
}

# Either language: for texts whose language is unknown or mixed ("oi, my order nao chegou").
ALL_STOPWORDS: frozenset[str] = STOPWORDS["pt"] | STOPWORDS["en"]


def stopwords_for(lang: str | None) -> frozenset[str]:
    """The list of ``lang`` (``pt`` or ``en``); ``None`` gives both languages' words together."""
    if lang is None:
        return ALL_STOPWORDS
    try:
        return STOPWORDS[lang]
    except KeyError:
        raise ValueError(f"no stop words for language {lang!r} (known: {', '.join(STOPWORDS)})") from None
