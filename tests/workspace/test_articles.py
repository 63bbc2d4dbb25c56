"""Article management (``/api/lead/articles``) on a real app over a temporary copy of kb_articles.

What a lead relies on: a stale save never overwrites a colleague's (409), the checker CI runs refuses what CI
would refuse (its messages shown), HTML in an article is neutralised exactly as the help center does, an
unpublished pair leaves the search and the help center at once, and an agent cannot reach any of it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from kb_articles.check_articles import check_folder
from services.settings import REPO_ROOT
from services.workspace import audit

ARTICLE = "pt/comparar-produtos"  # no other article links to it, so it can be unpublished
PAIR = "en/compare-products"


def read(client: httpx.Client, key: str = ARTICLE) -> dict:
    r = client.get(f"/api/lead/articles/{key}")
    assert r.status_code == 200, r.text
    return r.json()


def test_repository_articles_are_untouched_by_these_tests() -> None:
    # The tests below write only under tmp_path; the repository's folder still passes its own checker.
    assert check_folder(REPO_ROOT / "kb_articles") == []


def test_an_agent_gets_403_and_a_stranger_401(workspace_app, agent_client: httpx.Client) -> None:
    for method, path in (("GET", "/api/lead/articles"), ("GET", f"/api/lead/articles/{ARTICLE}"),
                         ("PUT", f"/api/lead/articles/{ARTICLE}"), ("POST", f"/api/lead/articles/{ARTICLE}/publish"),
                         ("POST", "/api/lead/articles/preview"), ("GET", "/api/lead/gaps")):
        body = {"text": "x", "version": "v"} if method != "GET" else None
        assert agent_client.request(method, path, json=body).status_code == 403, path
        assert workspace_app.client().request(method, path, json=body).status_code == 401, path


def test_list_and_read(lead_client: httpx.Client) -> None:
    articles = lead_client.get("/api/lead/articles").json()["articles"]
    row = next(a for a in articles if (a["lang"], a["id"]) == ("pt", "comparar-produtos"))
    assert row["status"] == "published" and row["category"] == "service" and row["updated"] == "2026-10-20"
    assert len(articles) == 98
    body = read(lead_client)
    assert body["text"].startswith("---\nid: comparar-produtos") and len(body["version"]) == 64


def test_a_stale_save_is_409_and_nothing_is_lost(workspace_app, lead_client: httpx.Client) -> None:
    other_lead = workspace_app.add_account("rui@lumo.test", "Rui Lider", "lead", ["atendimento"])
    rui = workspace_app.login(other_lead.email)
    mine, his = read(lead_client), read(rui)
    mine_text = mine["text"].replace("até 4 itens", "até 4 produtos")
    r = lead_client.put(f"/api/lead/articles/{ARTICLE}", json={"text": mine_text, "version": mine["version"]})
    assert r.status_code == 200, r.text
    his_text = his["text"].replace("Repita em até 4", "Repita em no máximo 4")
    r = rui.put(f"/api/lead/articles/{ARTICLE}", json={"text": his_text, "version": his["version"]})
    assert r.status_code == 409
    assert "changed by someone else" in r.json()["detail"]
    path = workspace_app.kb_articles / f"{ARTICLE}.md"
    assert path.read_text(encoding="utf-8") == mine_text  # the first save survived
    # With the fresh version his change goes in, on top of hers.
    fresh = read(rui)
    r = rui.put(f"/api/lead/articles/{ARTICLE}", json={
        "text": fresh["text"].replace("Repita em até 4", "Repita em no máximo 4"), "version": fresh["version"]})
    assert r.status_code == 200
    final = path.read_text(encoding="utf-8")
    assert "até 4 produtos" in final and "no máximo 4" in final
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary file left
    saved = audit.entries(workspace_app.db, action="article_saved")
    assert [e["lead_name"] for e in saved] == ["Rui Lider", "Lia Lider"]
    assert saved[1]["before"]["text"] == mine["text"] and saved[1]["after"]["text"] == mine_text


def test_two_simultaneous_saves_of_one_version_one_wins(workspace_app, lead_client: httpx.Client) -> None:
    start = read(lead_client)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def save(word: str) -> None:
        client = workspace_app.login(workspace_app.lead.email)
        barrier.wait()
        text = start["text"].replace("Comparar", f"Comparar {word}", 1)
        results.append(client.put(f"/api/lead/articles/{ARTICLE}", json={"text": text,
                                                                        "version": start["version"]}).status_code)

    threads = [threading.Thread(target=save, args=(w,)) for w in ("um", "dois")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [200, 409]


def test_html_in_an_article_is_neutralised_like_the_help_center(workspace_app, lead_client: httpx.Client) -> None:
    current = read(lead_client)
    evil = current["text"].replace(
        "## Como usar o comparador",
        "<script>alert('x')</script> <img src=x onerror=alert(1)> [clique](javascript:alert(1))\n\n"
        "## Como usar o comparador")
    preview = lead_client.post("/api/lead/articles/preview", json={"text": evil}).json()
    assert "<script>" not in preview["html"] and "&lt;script&gt;" in preview["html"]
    assert "<img" not in preview["html"] and 'href="javascript' not in preview["html"]
    assert preview["title"].startswith("Como comparar produtos")
    r = lead_client.put(f"/api/lead/articles/{ARTICLE}", json={"text": evil, "version": current["version"]})
    assert r.status_code == 200, r.text
    page = workspace_app.client().get("/help/pt/comparar-produtos")
    assert page.status_code == 200
    assert "&lt;script&gt;alert" in page.text and "<script>alert" not in page.text
    assert "<img src=x" not in page.text and 'href="javascript' not in page.text
    # The preview is the help center's own rendering of the body, byte for byte.
    store_html = workspace_app.app.state.helpcenter.get("pt", "comparar-produtos").html
    assert preview["html"] == store_html


def test_checker_errors_surface_and_nothing_is_written(workspace_app, lead_client: httpx.Client) -> None:
    current = read(lead_client)
    path = workspace_app.kb_articles / f"{ARTICLE}.md"
    broken = current["text"].replace("category: service", "category: vendas").replace(
        "## Como usar o comparador", "## Extra\n\ntexto\n\n## Como usar o comparador")
    r = lead_client.put(f"/api/lead/articles/{ARTICLE}", json={"text": broken, "version": current["version"]})
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert any("category 'vendas' is not one of service, support" in p for p in problems), problems
    assert "refused by the article checker" in r.json()["detail"]
    assert path.read_text(encoding="utf-8") == current["text"]
    # A draft may be saved while incomplete: the checker's remarks come back instead of a refusal.
    r = lead_client.post(f"/api/lead/articles/{ARTICLE}/unpublish")
    assert r.status_code == 200, r.text
    draft = read(lead_client)
    r = lead_client.put(f"/api/lead/articles/{ARTICLE}", json={
        "text": draft["text"].replace("## Como usar o comparador", "## Extra\n\ntexto\n\n## Como usar o comparador"),
        "version": draft["version"]})
    assert r.status_code == 200
    # ...but publishing it is refused with the checker's own words (sections differ from the translation).
    r = lead_client.post(f"/api/lead/articles/{ARTICLE}/publish")
    assert r.status_code == 422
    assert any("'## ' sections but its translation 'compare-products'" in p for p in r.json()["problems"])
    assert read(lead_client)["status"] == "draft"


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"text": "", "version": "v"}, 422, "empty"),
    ({"text": "   \n", "version": "v"}, 422, "empty"),
    ({"text": "no front matter at all", "version": "v"}, 422, "front matter"),
    ({"text": "---\nid: [\n---\nbody", "version": "v"}, 422, "not valid YAML"),
    ({"text": "---\nid: outro\ntitle: T\nlang: pt\ncategory: service\n---\nx", "version": "v"}, 422, "must stay"),
    ({"text": "---\nid: comparar-produtos\ntitle: T\nlang: en\ncategory: service\n---\nx", "version": "v"}, 422,
     "lang must stay"),
    ({"text": "a\x00b", "version": "v"}, 422, "binary"),
])
def test_bad_input_is_a_clear_4xx(lead_client: httpx.Client, body: dict, status: int, words: str) -> None:
    r = lead_client.put(f"/api/lead/articles/{ARTICLE}", json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


def test_more_bad_input(workspace_app, lead_client: httpx.Client) -> None:
    current = read(lead_client)
    huge = current["text"] + ("palavra " * 70_000)
    r = lead_client.put(f"/api/lead/articles/{ARTICLE}", json={"text": huge, "version": current["version"]})
    assert r.status_code == 422
    long_but_fine = current["text"].replace("## Como usar o comparador", ("Texto longo. " * 400) +
                                            "\n\n## Como usar o comparador")
    assert len(long_but_fine) > 5000
    r = lead_client.put(f"/api/lead/articles/{ARTICLE}", json={"text": long_but_fine, "version": current["version"]})
    assert r.status_code == 200, r.text
    r = lead_client.put(f"/api/lead/articles/{ARTICLE}", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert lead_client.get("/api/lead/articles/xx/comparar-produtos").status_code == 404
    assert lead_client.get("/api/lead/articles/pt/nao-existe").status_code == 404
    assert lead_client.get("/api/lead/articles/pt/Bad..Id").status_code == 404
    r = lead_client.put(f"/api/lead/articles/{ARTICLE}", json={"text": read(lead_client)["text"].replace(
        "translation: compare-products", "translation: compare-products\nstatus: draft"),
        "version": read(lead_client)["version"]})
    assert r.status_code == 422 and "Publish or Unpublish" in r.json()["detail"]
    r = lead_client.post(f"/api/lead/articles/{ARTICLE}/publish")
    assert r.status_code == 422 and "already published" in r.json()["detail"]


def test_unpublish_takes_the_pair_out_of_search_and_help_center_then_publish_brings_it_back(
        workspace_app, lead_client: httpx.Client) -> None:
    anonymous = workspace_app.client()
    question = "como comparar os produtos lado a lado antes de comprar"

    def top(q: str, lang: str) -> str:
        r = anonymous.get("/api/search", params={"q": q, "lang": lang, "k": 3})
        assert r.status_code == 200, r.text
        return r.json()["results"][0]["article_id"]

    assert top(question, "pt") == "comparar-produtos"
    assert anonymous.get("/help/pt/comparar-produtos").status_code == 200
    r = lead_client.post(f"/api/lead/articles/{ARTICLE}/unpublish")
    assert r.status_code == 200, r.text
    assert {(c["lang"], c["id"]) for c in r.json()["changed"]} == {("pt", "comparar-produtos"),
                                                                   ("en", "compare-products")}
    assert "index_error" not in r.json() and r.json()["index"]["version"]
    assert read(lead_client)["status"] == "draft" and read(lead_client, PAIR)["status"] == "draft"
    assert top(question, "pt") != "comparar-produtos"
    assert top("how do I compare products side by side", "en") != "compare-products"
    assert anonymous.get("/help/pt/comparar-produtos").status_code == 404
    assert anonymous.get("/help/en/compare-products").status_code == 404
    kb = Path(workspace_app.kb_articles)
    assert check_folder(kb) == []  # a draft pair is valid for CI
    r = lead_client.post(f"/api/lead/articles/{PAIR}/publish")
    assert r.status_code == 200, r.text
    assert top(question, "pt") == "comparar-produtos"
    assert anonymous.get("/help/en/compare-products").status_code == 200
    actions = [(e["action"], e["target"]) for e in audit.entries(workspace_app.db)]
    assert ("article_unpublished", "article:pt/comparar-produtos") in actions
    assert ("article_published", "article:en/compare-products") in actions
    assert ("article_published", "article:pt/comparar-produtos") in actions
    assert check_folder(kb) == []


def test_unpublishing_an_article_others_link_to_is_refused_with_the_links(workspace_app, lead_client) -> None:
    r = lead_client.post("/api/lead/articles/pt/troca-por-defeito/unpublish")
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert len(problems) >= 6 and all("points to a draft" in p for p in problems), problems
    assert read(lead_client, "pt/troca-por-defeito")["status"] == "published"
    assert workspace_app.client().get("/help/pt/troca-por-defeito").status_code == 200
