"""Knowledge-base search inside the services app: loads (or first builds) the index at start-up.

Why at start-up and awaited: the bot's answers and the help-center search need the index; serving before it
is loaded would make the first customers' questions fail. Loading an existing index takes about a second;
only the very first start (no index yet) embeds every article, which takes a minute on two cores.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from retrieval import api as search_api
from retrieval.service import create_search_state

log = logging.getLogger(__name__)


def register(app: FastAPI) -> None:
    app.include_router(search_api.router)


async def on_startup(app: FastAPI) -> None:
    log.info("loading the knowledge-base index (built from kb_articles/ on first start)")
    app.state.search = await asyncio.to_thread(create_search_state)
    log.info("knowledge-base index ready")
