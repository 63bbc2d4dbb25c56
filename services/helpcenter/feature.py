"""Help-center feature: the demo store's home page and the help center, with the chat widget on every page.

Routes: ``/`` (store home), ``/help`` (→ ``/help/{lang}`` by ``?lang`` or Accept-Language), ``/help/{lang}``
(categories and articles), ``/help/{lang}/search?q=``, ``/help/{lang}/{article_id}``. Registered last by
services/app.py because ``/help/{lang}/{article_id}`` is a catch-all under ``/help``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.helpcenter.articles import LANGS, ArticleStore
from services.helpcenter.products import PRODUCTS, brl
from services.helpcenter.search import MAX_QUERY_CHARS, search
from services.settings import REPO_ROOT
from texts import catalogue

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "web" / "templates"
ARTICLES_DIR = REPO_ROOT / "kb_articles"


def articles_dir() -> Path:
    """The folder the search indexes (retrieval.yml ``articles_dir``): the pages and the bot read one set of
    files, so an article a lead publishes is on the site and in the bot's answers together."""
    from retrieval.config import load_settings

    try:
        return load_settings().articles_dir
    except (OSError, ValueError):
        return ARTICLES_DIR


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def pick_language(request: Request) -> str:
    """``?lang=`` first, then the browser's Accept-Language (first of pt/en mentioned), else Portuguese."""
    asked = request.query_params.get("lang", "")[:5].lower()
    if asked in LANGS:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return "pt"


def site_texts(lang: str) -> dict[str, str]:
    """The site's interface texts (catalogue section ``site``); ``{q}``/``{value}`` are filled by the caller."""
    return catalogue().section("site", lang)


def _security_headers(response: Response, request: Request) -> Response:
    host = request.headers.get("host", "")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' ws://{host} wss://{host}; frame-ancestors 'self'; base-uri 'self'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _page(request: Request, name: str, lang: str, status: int = 200, **context: Any) -> Response:
    other = "en" if lang == "pt" else "pt"
    response = templates.TemplateResponse(request, name, {
        "lang": lang, "other": other, "ui": site_texts(lang), "other_ui": site_texts(other),
        "company": catalogue().company(lang), **context},
        status_code=status)
    return _security_headers(response, request)


def _store(request: Request) -> ArticleStore:
    return request.app.state.helpcenter


def register(app: FastAPI) -> None:
    app.state.helpcenter = ArticleStore(articles_dir())

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> Response:
        lang = pick_language(request)
        products = [{**p, "kind": p["kind"][lang], "price_text": brl(p["price"]),
                     "installment": site_texts(lang)["in_installments"].format(value=brl(p["price"] / 12))}
                    for p in PRODUCTS]
        return _page(request, "home.html", lang, products=products, switch_url=f"/?lang={'en' if lang == 'pt' else 'pt'}")

    @app.get("/help", include_in_schema=False)
    def help_root(request: Request) -> Response:
        return RedirectResponse(f"/help/{pick_language(request)}", status_code=302)

    @app.get("/help/{lang}", response_class=HTMLResponse, include_in_schema=False)
    def help_home(request: Request, lang: str) -> Response:
        if lang not in LANGS:
            return _not_found(request, pick_language(request))
        groups = _store(request).by_category(lang)
        other = "en" if lang == "pt" else "pt"
        return _page(request, "help_home.html", lang, groups=groups, switch_url=f"/help/{other}")

    @app.get("/help/{lang}/search", response_class=HTMLResponse, include_in_schema=False)
    async def help_search(request: Request, lang: str, q: str = "") -> Response:
        if lang not in LANGS:
            return _not_found(request, pick_language(request))
        query = q.replace("\x00", "").strip()[:MAX_QUERY_CHARS]
        state = getattr(request.app.state, "search", None)
        hits, engine = await asyncio.to_thread(search, state, _store(request), query, lang)
        other = "en" if lang == "pt" else "pt"
        response = _page(request, "search.html", lang, query=query, hits=hits,
                         switch_url=f"/help/{other}/search?q={quote(query)}" if query else f"/help/{other}")
        response.headers["X-Search-Engine"] = engine
        return response

    @app.get("/help/{lang}/{article_id}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(request: Request, lang: str, article_id: str) -> Response:
        store = _store(request)
        article = store.get(lang, article_id) if lang in LANGS else None
        if article is None:
            return _not_found(request, lang if lang in LANGS else pick_language(request))
        translation = store.translation_of(article)
        other = "en" if lang == "pt" else "pt"
        related = store.related(article)
        return _page(request, "article.html", lang, article=article, translation=translation, related=related,
                     switch_url=translation.url if translation else f"/help/{other}")


def _not_found(request: Request, lang: str) -> Response:
    other = "en" if lang == "pt" else "pt"
    return _page(request, "not_found.html", lang, status=404, switch_url=f"/help/{other}")
