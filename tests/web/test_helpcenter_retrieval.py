"""Help-center search through the real retrieval layer (hybrid FAISS + BM25) on a small article set."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.helpcenter.articles import ArticleStore
from services.helpcenter.search import search
from tests.web.test_helpcenter import write_article

pytestmark = [pytest.mark.slow]


def test_search_uses_the_retrieval_layer_when_it_is_loaded(tmp_path: Path) -> None:
    retrieval = pytest.importorskip("retrieval.service")
    from retrieval.config import load_settings

    kb = tmp_path / "kb"
    write_article(kb, "pt", "pedido-atrasado", "Meu pedido está atrasado",
                  "Se a entrega passou do prazo, confira o rastreio e fale com o Atendimento.", translation="late-order")
    write_article(kb, "pt", "pagamento-pix", "Pagamento com Pix",
                  "O Pix é aprovado em minutos e tem 5% de desconto.", translation="pay-with-pix")
    write_article(kb, "en", "late-order", "My order is late",
                  "If the delivery date has passed, check the tracking code.", translation="pedido-atrasado")
    write_article(kb, "en", "pay-with-pix", "Paying with Pix",
                  "Pix is approved in minutes and has a 5% discount.", translation="pagamento-pix")
    state = retrieval.SearchState(load_settings(articles_dir=str(kb), index_dir=str(tmp_path / "index")))
    store = ArticleStore(kb, check_seconds=0)

    hits, engine = search(state, store, "minha encomenda nao chegou ainda", "pt")
    assert engine == "retrieval"
    assert hits[0].article.id == "pedido-atrasado" and all(h.article.lang == "pt" for h in hits)
    hits, engine = search(state, store, "can I pay by pix?", "en")
    assert engine == "retrieval" and hits[0].article.id == "pay-with-pix"

    class Broken:
        @property
        def searcher(self) -> object:
            raise RuntimeError("index is being rebuilt")

    hits, engine = search(Broken(), store, "pix", "pt")
    assert engine == "text" and hits[0].article.id == "pagamento-pix"
