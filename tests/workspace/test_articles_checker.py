"""The ``status`` front-matter field in the CI checker, the search index and the help center (drafts).

Run on a temporary copy of kb_articles: the repository's folder is never modified.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb_articles.check_articles import check_folder
from retrieval.ingest import load_articles
from services.helpcenter.articles import ArticleStore
from services.settings import REPO_ROOT
from services.workspace.articles import with_status


@pytest.fixture()
def kb(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(REPO_ROOT / "kb_articles", target)
    return target


def set_status(kb: Path, key: str, status: str) -> None:
    path = kb / f"{key}.md"
    path.write_text(with_status(path.read_text(encoding="utf-8"), status), encoding="utf-8")


def test_a_draft_pair_is_valid_and_invisible_to_search_and_help_center(kb: Path) -> None:
    set_status(kb, "pt/comparar-produtos", "draft")
    set_status(kb, "en/compare-products", "draft")
    assert check_folder(kb) == []
    report = load_articles(kb)
    keys = {a.key for a in report.articles}
    assert "pt/comparar-produtos" not in keys and "en/compare-products" not in keys and len(keys) == 96
    assert {Path(p).name for p in report.drafts} == {"compare-products.md", "comparar-produtos.md"}
    store = ArticleStore(kb)
    assert store.get("pt", "comparar-produtos") is None and store.get("pt", "rastrear-pedido") is not None


def test_a_published_article_cannot_pair_with_or_link_to_a_draft(kb: Path) -> None:
    set_status(kb, "en/compare-products", "draft")
    problems = check_folder(kb)
    assert any("comparar-produtos.md: translation 'compare-products' is a draft" in p for p in problems), problems
    set_status(kb, "en/compare-products", "published")
    set_status(kb, "pt/troca-por-defeito", "draft")  # six published articles link to it
    set_status(kb, "en/exchange-for-defect", "draft")
    problems = check_folder(kb)
    assert len(problems) >= 6 and all("/troca-por-defeito points to a draft" in p or
                                      "/exchange-for-defect points to a draft" in p for p in problems), problems


def test_a_draft_may_lack_its_translation_but_not_its_other_fields(kb: Path) -> None:
    draft = kb / "pt" / "rascunho-novo.md"
    draft.write_text("---\nid: rascunho-novo\ntitle: Novo\nlang: pt\ncategory: service\ntags: [novo]\n"
                     "updated: 2026-12-01\nstatus: draft\n---\nTexto.\n", encoding="utf-8")
    assert check_folder(kb) == []
    draft.write_text(draft.read_text(encoding="utf-8").replace("tags: [novo]\n", ""), encoding="utf-8")
    assert any("rascunho-novo.md: missing or empty field 'tags'" in p for p in check_folder(kb))
    published = draft.read_text(encoding="utf-8").replace("status: draft", "status: published")
    draft.write_text(published.replace("title: Novo", "title: Novo\ntags: [novo]"), encoding="utf-8")
    assert any("missing or empty field 'translation'" in p for p in check_folder(kb))
    draft.write_text(published.replace("status: published", "status: rascunho"), encoding="utf-8")
    assert any("status 'rascunho' is not one of draft, published" in p for p in check_folder(kb))


def test_with_status_keeps_everything_else() -> None:
    text = "---\nid: a\ntitle: A\n---\ncorpo\n--- \n"
    assert with_status(text, "draft") == "---\nid: a\ntitle: A\nstatus: draft\n---\ncorpo\n--- \n"
    assert with_status(with_status(text, "draft"), "published") == (
        "---\nid: a\ntitle: A\nstatus: published\n---\ncorpo\n--- \n")
