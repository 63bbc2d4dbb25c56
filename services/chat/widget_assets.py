"""The chat widget script, served with its texts and limits filled in from the catalogue and chat.yml.

Why not a static file: the widget's wording lives in texts/<language>.yml (section ``widget``) with every other
customer text, and its message-length limit in services/chat/chat.yml; inlining them at serve time keeps one
copy of each and still lets the widget speak before its WebSocket connects (the "can't reach us" banner is
shown exactly when the server cannot be reached).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response

from services.chat.config import ChatConfig
from texts import Catalogue

WIDGET_FILE = Path(__file__).resolve().parent.parent / "web" / "static" / "chat" / "widget.js"
MARKER = "/*LUMO_CONFIG*/null"


def widget_config(catalogue: Catalogue, config: ChatConfig) -> dict[str, object]:
    """What the widget needs from the server before it connects: texts per language (default first) and the limit."""
    return {"texts": {lang: catalogue.section("widget", lang) for lang in catalogue.languages},
            "maxMessageChars": config.max_message_chars}


def render_widget(catalogue: Catalogue, config: ChatConfig, source: str | None = None) -> str:
    """widget.js with the configuration object in place of its marker."""
    script = source if source is not None else WIDGET_FILE.read_text(encoding="utf-8")
    if MARKER not in script:
        raise RuntimeError(f"{WIDGET_FILE} lost its {MARKER} marker; the widget would have no texts")
    payload = json.dumps(widget_config(catalogue, config), ensure_ascii=False, separators=(",", ":"))
    # "</" cannot end a <script> block when the widget is inlined into a page.
    return script.replace(MARKER, payload.replace("</", "<\\/"), 1)


def register_widget_route(app: FastAPI, catalogue: Catalogue, config: ChatConfig) -> None:
    """``GET /static/chat/widget.js``: registered before the ``/static`` mount so it takes precedence."""
    body = render_widget(catalogue, config).encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'

    @app.get("/static/chat/widget.js", include_in_schema=False)
    def widget_js(request: Request) -> Response:
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)
