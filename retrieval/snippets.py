"""Readable plain-text snippets of passages, for search results shown to customers.

Passages keep Markdown tables as one "cell | cell" line per row (the index needs the words, not the
layout). Shown as-is, a snippet read "Onde acontece | O que tentar | Ao abrir o app | Passos 1 a 4", so
rows are rewritten as sentences: the header row (column names) is dropped and each row becomes
"first cell: other cells." Leftover Markdown markers are removed too.
"""

from __future__ import annotations

import re

_CELL_SEP = re.compile(r"\s*\|\s*")
_MARKUP = re.compile(r"(\*\*|__|`|~~)|^\s*(?:#{1,6}|>|[-+*])\s+", re.MULTILINE)
_RULE = re.compile(r"^[\s|:-]*-{3,}[\s|:-]*$")  # a Markdown table's |---|---| separator line


def _row_sentence(cells: list[str]) -> str:
    cells = [c for c in cells if c]
    if not cells:
        return ""
    if len(cells) == 1:
        text = cells[0]
    else:
        rest = "; ".join(c.rstrip(".;") for c in cells[1:])
        text = f"{cells[0].rstrip(':.')}: {rest}"
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def plain_text(text: str) -> str:
    """``text`` with table rows as sentences, on one line (whitespace collapsed)."""
    out: list[str] = []
    lines = [ln for ln in text.splitlines() if not _RULE.match(ln)]
    i = 0
    while i < len(lines):
        if "|" not in lines[i]:
            out.append(lines[i])
            i += 1
            continue
        run = []
        while i < len(lines) and "|" in lines[i]:
            run.append([c for c in _CELL_SEP.split(lines[i].strip().strip("|")) if c.strip()])
            i += 1
        body = run[1:] if len(run) > 1 else run  # the first row of a table names its columns
        out.extend(_row_sentence(r) for r in body)
    joined = _MARKUP.sub(lambda m: "" if m.group(1) else "", "\n".join(out))
    return " ".join(_CELL_SEP.sub(" – ", joined).split())


def snippet(text: str, chars: int) -> str:
    """At most ``chars`` characters of :func:`plain_text`, cut at a word boundary with "…"."""
    plain = plain_text(text)
    if len(plain) <= chars:
        return plain
    cut = plain[:chars].rsplit(" ", 1)[0].rstrip(" ,;:–")
    return cut + "…"
