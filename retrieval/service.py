"""Index lifecycle for a running process: load once, ingest incrementally, swap atomically, reload.

:class:`SearchState` owns the live :class:`~retrieval.search.Searcher`. Searches read ``state.searcher``
once and keep using that object, so a rebuild or reload (which only replaces the reference, under a
lock) never leaves a request looking at half an index.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from retrieval.calibration import Calibrator
from retrieval.config import Settings, load_settings
from retrieval.encoders import Encoder
from retrieval.index import (
    EncoderMismatchError,
    IndexData,
    IndexNotFoundError,
    build_index,
    configure_threads,
    load_index,
    make_encoders,
    save_index,
)
from retrieval.ingest import load_articles
from retrieval.search import Searcher

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    index_dir: Path
    stats: dict
    errors: dict[str, str]
    warnings: dict[str, str]


def ingest(settings: Settings, encoders: dict[str, Encoder] | None = None, full: bool = False,
           progress: bool = True, articles_dir: Path | None = None) -> tuple[IngestResult, IndexData]:
    """(Re)build the index from the articles folder; unchanged articles reuse their stored vectors.

    ``full=True`` ignores the previous index. An index built with other encoders is never reused.
    """
    configure_threads(int(settings["threads"]))
    encoders = encoders or make_encoders(settings)
    report = load_articles(articles_dir or settings.articles_dir)
    previous = None
    if not full:
        try:
            previous = load_index(settings.index_dir, encoders)
        except IndexNotFoundError:
            previous = None
        except EncoderMismatchError as exc:
            log.warning("re-embedding everything: %s", exc)
            previous = None
    data, stats = build_index(settings, report.articles, encoders, previous, progress, report.errors)
    path = save_index(data, settings.index_dir, int(settings["keep_old_versions"]))
    return IngestResult(path, stats, report.errors, report.warnings), data


class SearchState:
    """What the services app keeps between requests: settings, encoders and the live searcher."""

    def __init__(self, settings: Settings, build_if_missing: bool = True) -> None:
        self.settings = settings
        configure_threads(int(settings["threads"]))
        self.encoders = make_encoders(settings)
        self.calibrator = Calibrator.load(settings.calibration_file)
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None
        try:
            self.reload()
        except IndexNotFoundError:
            if not build_if_missing:
                raise
            log.info("no index in %s: building it from %s", settings.index_dir, settings.articles_dir)
            self.rebuild(progress=False)

    @property
    def searcher(self) -> Searcher:
        s = self._searcher
        if s is None:
            raise IndexNotFoundError("the knowledge-base index is not loaded")
        return s

    def reload(self) -> str:
        """Load the live index from disk (e.g. after `python -m retrieval ingest` in another process)."""
        data = load_index(self.settings.index_dir, self.encoders, self.settings)
        searcher = Searcher(data, self.encoders, self.settings, self.calibrator)
        searcher.warm()
        with self._lock:
            self._searcher = searcher
        return data.version

    def rebuild(self, full: bool = False, progress: bool = False) -> IngestResult:
        """Re-ingest the articles, save a new version and swap it in; searches keep running meanwhile."""
        with self._lock:  # one rebuild at a time; readers never take this lock
            result, data = ingest(self.settings, self.encoders, full=full, progress=progress)
            searcher = Searcher(data, self.encoders, self.settings, self.calibrator)
            searcher.warm()
            self._searcher = searcher
        return result


def create_search_state(settings: Settings | None = None, build_if_missing: bool = True) -> SearchState:
    """Load the index once at app start-up (building it from kb_articles/ when none exists)."""
    return SearchState(settings or load_settings(), build_if_missing=build_if_missing)
