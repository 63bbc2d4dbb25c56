"""Help center and store pages: language choice, categories, safe Markdown, search, reload, no external assets."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.app import create_app
from services.helpcenter.articles import ArticleStore
from services.helpcenter.search import text_search
from services.settings import REPO_ROOT, load_settings
from textnorm import fold

KB = REPO_ROOT / "kb_articles"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("help")
    settings = load_settings(database_url=f"sqlite:///{tmp / 'services.db'}", data_dir=tmp,
                             rasa_url="http://127.0.0.1:9", secret_key="help-tests", redis_url="")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def write_article(root: Path, lang: str, art_id: str, title: str, body: str, category: str = "service",
                  translation: str = "") -> Path:
    folder = root / lang
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{art_id}.md"
    path.write_text(f"---\nid: {art_id}\ntitle: {title}\nlang: {lang}\ncategory: {category}\ntags: [teste]\n"
                    f"updated: 2026-11-01\ntranslation: {translation or art_id}\n---\n{body}\n", encoding="utf-8")
    return path


def test_help_root_follows_accept_language_or_query(client: TestClient) -> None:
    assert client.get("/help", headers={"Accept-Language": "en-US,en;q=0.9"}, follow_redirects=False) \
        .headers["location"] == "/help/en"
    assert client.get("/help", headers={"Accept-Language": "pt-BR,pt;q=0.9"}, follow_redirects=False) \
        .headers["location"] == "/help/pt"
    assert client.get("/help?lang=en", headers={"Accept-Language": "pt-BR"}, follow_redirects=False) \
        .headers["location"] == "/help/en"
    assert client.get("/help", headers={"Accept-Language": "de-DE"}, follow_redirects=False) \
        .headers["location"] == "/help/pt"


def test_help_home_lists_both_categories_and_every_article(client: TestClient) -> None:
    store: ArticleStore = client.app.state.helpcenter
    for lang, service, support in (("pt", "Atendimento", "Suporte técnico"), ("en", "Customer service",
                                                                               "Technical support")):
        page = client.get(f"/help/{lang}")
        assert page.status_code == 200
        assert service in page.text and support in page.text
        articles = store.all(lang)
        assert len(articles) == len(list((KB / lang).glob("*.md"))) > 0
        for article in articles:
            assert f'href="/help/{lang}/{article.id}"' in page.text


def test_article_page_links_its_translation_and_carries_the_widget(client: TestClient) -> None:
    store: ArticleStore = client.app.state.helpcenter
    article = next(a for a in store.all("pt") if store.translation_of(a))
    translation = store.translation_of(article)
    page = client.get(article.url)
    assert page.status_code == 200
    assert f"<h1>{article.title}</h1>" in page.text
    assert f'href="/help/en/{translation.id}"' in page.text
    assert '<script src="/static/chat/widget.js" data-lang="pt" defer></script>' in page.text
    assert '<html lang="pt-BR">' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_unknown_pages_are_404_in_the_right_language(client: TestClient) -> None:
    assert client.get("/help/en/no-such-article").status_code == 404
    assert "Page not found" in client.get("/help/en/no-such-article").text
    assert "Página não encontrada" in client.get("/help/pt/nao-existe").text
    assert client.get("/help/xx").status_code == 404
    assert client.get("/help/pt/<script>").status_code == 404


def test_every_page_uses_only_local_assets(client: TestClient) -> None:
    """No CDN, no web font: every src/href of the store and help center stays on this site."""
    store: ArticleStore = client.app.state.helpcenter
    paths = ["/", "/?lang=en", "/help/pt", "/help/en", "/help/pt/search?q=pix"] + [a.url for a in store.all("en")[:5]]
    for path in paths:
        html = client.get(path).text
        for attr, url in re.findall(r'\b(src|href)="([^"]*)"', html):
            if attr == "href" and url.startswith(("#", "/", "?")):
                continue
            assert url.startswith("/"), f"{path}: external {attr} {url}"
        assert "@import" not in html and "fonts.googleapis" not in html
    css = client.get("/static/site/site.css").text + client.get("/static/chat/widget.css").text
    assert "url(" not in css and "@font-face" not in css


def test_search_is_accent_insensitive(client: TestClient) -> None:
    store: ArticleStore = client.app.state.helpcenter
    target = next(a for a in store.all("pt") if any(c in a.title for c in "áéíóúãõç"))
    word = max(re.findall(r"\w+", target.title), key=len)
    unaccented = fold(word)
    page = client.get(f"/help/pt/search?q={unaccented.upper()}")
    assert page.status_code == 200 and f'href="{target.url}"' in page.text
    assert page.headers["x-search-engine"] in {"text", "retrieval"}
    empty = client.get("/help/en/search?q=zzqqxxnonsense")
    assert "No articles found" in empty.text
    hostile = client.get("/help/en/search", params={"q": "<script>alert(1)</script>" + "x" * 5000})
    assert hostile.status_code == 200 and "<script>alert(1)" not in hostile.text


def test_markdown_is_rendered_safely_and_reloaded_on_change(tmp_path: Path) -> None:
    path = write_article(tmp_path, "en", "safe-test", "Safe test",
                         "Hello <script>alert(1)</script>\n\n[bad](javascript:alert(2)) [good](/help/en/x)\n\n"
                         "<img src=x onerror=alert(3)>")
    store = ArticleStore(tmp_path, check_seconds=0)
    article = store.get("en", "safe-test")
    assert article is not None
    assert "<script>" not in article.html and "&lt;script&gt;" in article.html
    assert "<img" not in article.html and 'href="javascript:' not in article.html
    assert 'href="/help/en/x"' in article.html
    time.sleep(0.01)
    path.write_text(path.read_text().replace("title: Safe test", "title: Safe test v2"), encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    assert store.get("en", "safe-test").title == "Safe test v2"
    write_article(tmp_path, "en", "broken", "x", "body").write_text("no front matter here")
    assert store.get("en", "broken") is None and store.get("en", "safe-test") is not None


def test_text_search_matches_informal_queries(tmp_path: Path) -> None:
    write_article(tmp_path, "pt", "rastrear-pedido", "Como rastrear seu pedido", "Veja o código de rastreio.")
    write_article(tmp_path, "pt", "pagamento-pix", "Pagamento com Pix", "Aprovação em minutos.")
    store = ArticleStore(tmp_path, check_seconds=0)
    hits = text_search(store, "como faço p rastrear meu pedido??", "pt")
    assert hits and hits[0].article.id == "rastrear-pedido"
    assert text_search(store, "APROVACAO pix", "pt")[0].article.id == "pagamento-pix"
    assert text_search(store, "", "pt") == [] and text_search(store, "de para com", "pt") == []


def test_store_home_in_both_languages(client: TestClient) -> None:
    pt = client.get("/", headers={"Accept-Language": "pt-BR"})
    en = client.get("/?lang=en")
    assert "Lumo Watch" in pt.text and "R$ 1.299,00" in pt.text and "Central de ajuda" in pt.text
    assert '<html lang="en">' in en.text and "Help center" in en.text
    assert 'data-lang="en"' in en.text


def test_related_articles_share_tags_first(tmp_path: Path) -> None:
    def art(art_id: str, tags: str) -> None:
        (tmp_path / "pt").mkdir(exist_ok=True)
        (tmp_path / "pt" / f"{art_id}.md").write_text(
            f"---\nid: {art_id}\ntitle: {art_id}\nlang: pt\ncategory: service\ntags: [{tags}]\nupdated: 2026-11-01\n"
            f"translation: {art_id}\n---\ntexto\n", encoding="utf-8")

    art("rastrear", "pedido, entrega, rastreio")
    art("atrasado", "pedido, entrega, atraso")
    art("aaa-pix", "pagamento, pix")
    art("cancelar", "pedido, cancelamento")
    store = ArticleStore(tmp_path, check_seconds=0)
    related = [a.id for a in store.related(store.get("pt", "rastrear"))]
    assert related == ["atrasado", "cancelar", "aaa-pix"]


def test_snippets_are_plain_text(tmp_path: Path) -> None:
    write_article(tmp_path, "pt", "app", "Atualizar o app",
                  "A versão mínima é a **5.2**: atualize [pela loja](/help/pt/x).\n\n## Passos\n\n1. Abra\n- Toque")
    article = ArticleStore(tmp_path, check_seconds=0).get("pt", "app")
    assert article.summary() == "A versão mínima é a 5.2: atualize pela loja. Passos Abra Toque"


def _retrieval_ids(client: TestClient, query: str, lang: str = "pt") -> list[str]:
    from services.helpcenter.search import search

    hits, engine = search(client.app.state.search, client.app.state.helpcenter, query, lang)
    assert engine == "retrieval", "the knowledge-base index must be loaded for these tests"
    return [h.article.id for h in hits]


def test_where_is_my_order_ranks_tracking_first(client: TestClient) -> None:
    # informal "cadê" is a question word; closing "Ainda precisa de ajuda?" sections must not outrank answers
    for q in ("cade meu pedido", "cadê meu pedido??", "onde esta meu pedido"):
        ids = _retrieval_ids(client, q)
        assert ids[0] == "rastrear-pedido", (q, ids[:5])


@pytest.mark.xfail(strict=True, reason="issue #11: on a freshly built index 'buds nao conecta' still ranks the "
                   "charging article first and the pairing article below the top 7")
def test_device_does_not_connect_ranks_setup_and_pairing_above_charging(client: TestClient) -> None:
    ids = _retrieval_ids(client, "buds nao conecta")
    assert ids[0] in ("configurar-lumo-buds", "parear-bluetooth"), ids[:5]
    assert ids.index("dispositivo-nao-carrega") > ids.index("configurar-lumo-buds")
    assert "parear-bluetooth" in ids[:8], ids


def test_search_snippets_show_tables_as_sentences(client: TestClient) -> None:
    from services.helpcenter.search import search

    hits, _ = search(client.app.state.search, client.app.state.helpcenter, "app fecha sozinho ao abrir", "pt")
    assert hits and all("|" not in h.snippet and "---" not in h.snippet for h in hits)
    page = client.get("/help/pt/search", params={"q": "Lumo Buds modo de pareamento luz branca"})
    assert page.status_code == 200 and " | " not in page.text.split("<main", 1)[-1]
