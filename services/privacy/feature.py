"""Privacy feature: the lead's LGPD tools (``/api/lead/privacy``) and the retention job.

``on_startup`` puts :class:`services.privacy.subject.SubjectData` on ``app.state.subject_data`` (with Rasa's
tracker store when its URL is known) and starts :class:`services.privacy.retention.RetentionJob`.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.privacy.api import router
from services.privacy.retention import RetentionJob
from services.privacy.subject import SubjectData, TrackerStore

log = logging.getLogger(__name__)


def register(app: FastAPI) -> None:
    app.include_router(router)


async def on_startup(app: FastAPI) -> None:
    settings = app.state.settings
    url = settings.tracker_store_url
    if not url:
        log.warning("Rasa's tracker store is not known (rasa_tracker_url): erasing a customer's data will not "
                    "reach Rasa's copy of their conversations")
    app.state.subject_data = SubjectData(app.state.db, TrackerStore(url) if url else None)
    app.state.retention = RetentionJob(app.state.subject_data, settings.retention_days)
    app.state.retention.start()


async def on_shutdown(app: FastAPI) -> None:
    job: RetentionJob | None = getattr(app.state, "retention", None)
    if job is not None:
        await job.stop()
    subjects: SubjectData | None = getattr(app.state, "subject_data", None)
    if subjects is not None and subjects.tracker is not None:
        subjects.tracker.dispose()
