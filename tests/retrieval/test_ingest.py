"""Awkward Markdown/HTML: tables, code, empty sections, long articles, bad bytes, bad front matter."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from retrieval.ingest import IngestError, article_passages, load_articles, parse_article, windows
from tests.retrieval.conftest import write_articles

FRONT = "---\nid: {id}\ntitle: {title}\nlang: pt\ncategory: support\n---\n"


def test_markdown_sections_keep_heading_path_tables_and_code() -> None:
    body = """# Parear o Lumo Watch

Intro do artigo.

## Requisitos

| item | mínimo |
|---|---|
| Android | 10 |
| iOS | 15 |

## Passo a passo

### No app

```
Menu > Dispositivos > Adicionar
```

## Seção vazia

## Observações
Use *Bluetooth* ligado, veja [a ajuda](/help/pt/bluetooth).
"""
    art = parse_article(FRONT.format(id="parear-watch", title="Parear o Lumo Watch") + body)
    passages = article_passages(art)
    by_heading = {p.heading: p for p in passages}
    assert set(by_heading) == {"Parear o Lumo Watch", "Requisitos", "Passo a passo › No app", "Observações"}
    assert "Android | 10" in by_heading["Requisitos"].text
    assert "Menu > Dispositivos > Adicionar" in by_heading["Passo a passo › No app"].text
    obs = by_heading["Observações"]
    assert obs.text == "Use Bluetooth ligado, veja a ajuda."  # markup and link targets stripped
    assert obs.url == "/help/pt/parear-watch" and obs.article_id == "parear-watch"
    assert obs.lang == "pt" and obs.category == "support" and obs.title == "Parear o Lumo Watch"


def test_html_article_drops_scripts_and_keeps_sections() -> None:
    text = FRONT.format(id="cam", title="Cam") + (
        "<h1>Cam</h1><p>Intro <b>forte</b>.</p><script>alert('x')</script>"
        "<h2>Wi-Fi</h2><ul><li>Use 2,4 GHz</li></ul><table><tr><th>modo</th><td>noite</td></tr></table>"
        "<h2>Nada aqui</h2>")
    passages = article_passages(parse_article(text, "cam.html", fmt="html"))
    assert [p.heading for p in passages] == ["Cam", "Wi-Fi"]
    assert "alert" not in " ".join(p.text for p in passages)
    assert "modo | noite" in passages[1].text and "Use 2,4 GHz" in passages[1].text


def test_very_long_section_is_split_into_overlapping_windows() -> None:
    words = [f"palavra{i}" for i in range(1000)]
    art = parse_article(FRONT.format(id="longo", title="Longo") + "## Tudo\n\n" + " ".join(words))
    passages = article_passages(art, max_words=200, overlap=40)
    assert len(passages) == 6  # starts 0, 160, ..., 800: (1000 - 200) / 160 + 1
    assert all(len(p.text.split()) <= 200 for p in passages)
    assert passages[0].text.split()[-40:] == passages[1].text.split()[:40]
    assert passages[-1].text.split()[-1] == "palavra999"
    assert windows("", 10, 2) == []


def test_title_only_article_is_still_findable() -> None:
    passages = article_passages(parse_article(FRONT.format(id="so-titulo", title="Só o título") + "\n## Vazio\n"))
    assert len(passages) == 1 and passages[0].text == "" and passages[0].embed_text == "Só o título"


def test_invalid_utf8_is_replaced_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    raw = (FRONT.format(id="bytes", title="Bytes ruins") + "Texto com byte inválido: ").encode() + b"\xff\xfe ok\n"
    write_articles(tmp_path, {"pt/bytes.md": raw})
    with caplog.at_level(logging.WARNING):
        report = load_articles(tmp_path)
    assert [a.id for a in report.articles] == ["bytes"]
    assert "\ufffd" in report.articles[0].body
    assert "invalid UTF-8" in next(iter(report.warnings.values()))
    assert any("invalid UTF-8" in r.message for r in caplog.records)


@pytest.mark.parametrize("content, reason", [
    ("# Sem front matter\n\ntexto", "missing front matter"),
    ("---\nid: x\ntitle: [quebrado\n---\ntexto", "not valid YAML"),
    ("---\nid: x\nlang: pt\ncategory: service\n---\ntexto", "missing or empty field 'title'"),
    ("---\nid: x\ntitle: T\nlang: es\ncategory: service\n---\ntexto", "lang 'es'"),
    ("---\nid: x\ntitle: T\nlang: pt\ncategory: vendas\n---\ntexto", "category 'vendas'"),
    ("---\nid: X Y\ntitle: T\nlang: pt\ncategory: service\n---\ntexto", "not kebab-case"),
])
def test_bad_front_matter_is_a_clear_error_per_file(tmp_path: Path, content: str, reason: str) -> None:
    write_articles(tmp_path, {"pt/bad.md": content,
                              "pt/good.md": FRONT.format(id="bom", title="Bom") + "Conteúdo bom."})
    report = load_articles(tmp_path)
    assert [a.id for a in report.articles] == ["bom"]  # the good file is still ingested
    (path, msg), = report.errors.items()
    assert path.endswith("bad.md") and reason in msg and "bad.md" in msg
    with pytest.raises(IngestError):
        parse_article(content, "bad.md")


def test_duplicate_article_key_is_reported(tmp_path: Path) -> None:
    same = FRONT.format(id="dup", title="Dup") + "x"
    write_articles(tmp_path, {"pt/a.md": same, "pt/b.md": same})
    report = load_articles(tmp_path)
    assert len(report.articles) == 1 and "duplicate article pt/dup" in next(iter(report.errors.values()))


def test_content_hash_changes_with_body_only_when_content_changes() -> None:
    a = parse_article(FRONT.format(id="h", title="H") + "um")
    b = parse_article(FRONT.format(id="h", title="H") + "um")
    c = parse_article(FRONT.format(id="h", title="H") + "dois")
    assert a.content_hash == b.content_hash != c.content_hash


def test_folder_readme_is_not_an_article(tmp_path: Path) -> None:
    write_articles(tmp_path, {"README.md": "# Como escrever artigos", "pt/a.md": FRONT.format(id="a", title="A") + "x"})
    report = load_articles(tmp_path)
    assert [a.id for a in report.articles] == ["a"] and not report.errors
