"""Snippets shown to customers are sentences, never Markdown table syntax."""

from __future__ import annotations

from retrieval.ingest import article_passages, parse_article
from retrieval.snippets import plain_text, snippet

ARTICLE = """---
id: app-fecha
title: O app fecha sozinho
lang: pt
category: support
---
## Onde acontece

| Onde acontece | O que tentar |
|---|---|
| Ao abrir o app | Passos 1 a 4. Se persistir, reinstale. |
| Na tela de um dispositivo | Confira se o dispositivo está **on-line**. |
"""


def test_table_rows_become_sentences_without_pipes() -> None:
    passage = article_passages(parse_article(ARTICLE, "x.md"))[0]
    assert "|" in passage.text  # the index keeps the table as rows of cells
    text = plain_text(passage.text)
    assert "|" not in text and "---" not in text and "**" not in text
    assert text == ("Ao abrir o app: Passos 1 a 4. Se persistir, reinstale. "
                    "Na tela de um dispositivo: Confira se o dispositivo está on-line.")


def test_snippet_cuts_at_a_word_and_keeps_short_text() -> None:
    assert snippet("Pix aprovado em minutos.", 100) == "Pix aprovado em minutos."
    cut = snippet("palavra " * 50, 30)
    assert cut.endswith("…") and len(cut) <= 31 and "  " not in cut
    assert snippet("a | b c | d", 100) == "a: b c; d."  # a row without header line (windowed passage)
