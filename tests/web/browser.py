"""Helpers for the browser tests: launch the system Chromium with Playwright and drive the chat widget.

Playwright cannot download its own browser here, so tests use Debian's ``/usr/bin/chromium`` (override with
``CHROMIUM``); when it is missing, browser tests are skipped with that reason.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 667}
# Bot replies wait for Rasa (+ the action server, + the order API); generous on a shared 2-core machine.
REPLY_TIMEOUT_MS = 60_000


def chromium_path() -> str | None:
    """The Chromium executable, or ``None`` when it is not installed."""
    path = CHROMIUM if os.path.isabs(CHROMIUM) else shutil.which(CHROMIUM)
    return path if path and os.access(path, os.X_OK) else None


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium); browser tests need it")
    return path


@contextmanager
def launch_browser() -> Iterator[Any]:
    """A headless Chromium for one test module (``with launch_browser() as browser:``)."""
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Widget:
    """The chat widget on one page, seen the way a customer uses it (Playwright pierces its shadow root)."""

    def __init__(self, page: Any) -> None:
        self.page = page

    @property
    def launcher(self) -> Any:
        return self.page.locator("#lumo-chat .launcher")

    @property
    def panel(self) -> Any:
        return self.page.locator("#lumo-chat .panel")

    @property
    def input(self) -> Any:
        return self.page.locator("#lumo-chat textarea.input")

    @property
    def log(self) -> Any:
        return self.page.locator("#lumo-chat .log")

    def open(self) -> Widget:
        if not self.panel.is_visible():
            self.launcher.click()
        self.panel.wait_for(state="visible")
        self.wait_connected()
        return self

    def wait_connected(self, timeout_ms: int = 30_000) -> None:
        self.page.wait_for_function("() => window.LumoChat && window.LumoChat.state().connected", timeout=timeout_ms)

    def state(self) -> dict[str, Any]:
        return self.page.evaluate("() => window.LumoChat.state()")

    def send(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def messages(self, role: str) -> Any:
        return self.page.locator(f"#lumo-chat .log .msg.{role}")

    def texts(self, role: str) -> list[str]:
        return [t.strip() for t in self.messages(role).locator(".body").all_inner_texts()]

    def wait_for_reply(self, count_before: int, role: str = "bot", timeout_ms: int = REPLY_TIMEOUT_MS) -> str:
        """Wait until more than ``count_before`` messages of ``role`` exist; the newest one's text."""
        sel = f"#lumo-chat .log .msg.{role}:not(.greeting)"
        self.page.wait_for_function(
            "([sel, n]) => { const h = document.querySelector('#lumo-chat').shadowRoot;"
            " return h.querySelectorAll(sel.replace('#lumo-chat ', '')).length > n; }",
            arg=[sel, count_before], timeout=timeout_ms)
        return self.page.locator(sel).last.locator(".body").inner_text()

    def bot_count(self) -> int:
        return self.page.locator("#lumo-chat .log .msg.bot:not(.greeting)").count()

    def wait_all_sent(self, timeout_ms: int = 30_000) -> None:
        """Every customer message acknowledged by the server (outbox empty, no bubble still queued)."""
        self.page.wait_for_function(
            "() => window.LumoChat.state().outbox === 0 && !document.querySelector('#lumo-chat').shadowRoot"
            ".querySelector('.msg.customer[data-state=queued], .msg.customer[data-state=sending]')",
            timeout=timeout_ms)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def screenshot(page: Any, path: Path, full_page: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path


def wait_for_bot_text(page: Any, pattern: str, timeout_ms: int = REPLY_TIMEOUT_MS) -> str:
    """Wait for a bot message whose text matches the regular expression ``pattern``; its text."""
    page.wait_for_function(
        "(p) => { const re = new RegExp(p, 'i'); return [...document.querySelector('#lumo-chat').shadowRoot"
        ".querySelectorAll('.msg.bot:not(.greeting) .body')].some(b => re.test(b.textContent)); }",
        arg=pattern, timeout=timeout_ms)
    texts = page.locator("#lumo-chat .msg.bot:not(.greeting) .body").all_inner_texts()
    return next(t for t in reversed(texts) if re.search(pattern, t, re.I))
