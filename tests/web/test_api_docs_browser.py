"""The API documentation pages work without internet: Swagger UI and ReDoc load from the app itself.

FastAPI's default /docs loads Swagger UI from a CDN, which showed a blank page on a machine without internet.
Checked in real Chromium with every request to another host blocked, as on such a machine.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from tests.web.live import LiveApp

pytestmark = pytest.mark.browser


def offline_page(browser: Any, base: str) -> tuple[Any, list[str]]:
    """A page that refuses every request leaving the app's own host (what "no internet" looks like)."""
    page = browser.new_page()
    own = urlparse(base).netloc
    foreign: list[str] = []

    def route(request_route: Any) -> None:
        if urlparse(request_route.request.url).netloc == own:
            request_route.continue_()
        else:
            foreign.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    return page, foreign


def test_swagger_ui_renders_the_api_offline(browser: Any, live_app: LiveApp) -> None:
    page, foreign = offline_page(browser, live_app.url)
    page.goto(live_app.url + "/docs")
    page.locator(".swagger-ui .info .title").wait_for(timeout=20_000)
    assert "Lumo support services" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-summary-path", has_text="/api/handoff/turns").first.wait_for(timeout=10_000)
    assert foreign == []
    page.close()


def test_redoc_renders_offline(browser: Any, live_app: LiveApp) -> None:
    page, foreign = offline_page(browser, live_app.url)
    page.goto(live_app.url + "/redoc")
    page.get_by_text("Lumo support services").first.wait_for(timeout=20_000)
    # ReDoc's bundle links its own "powered by" logo from its site; the page works without it.
    assert all(url.endswith(".svg") for url in foreign), foreign
    page.close()
