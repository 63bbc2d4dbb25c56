"""Authentication of internal calls (action server → services app) with a shared token.

Why: endpoints such as recording knowledge-base events or creating escalations must not be callable by
customers' browsers. The launcher gives every process the same ``INTERNAL_TOKEN``; when none is configured
(a developer running one piece by hand) the token is derived from the app's secret key, which the action
server cannot know, so such calls are refused rather than silently open.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from fastapi import HTTPException, Request

from services.deps import SettingsDep

HEADER = "X-Internal-Token"


def internal_token(secret_key: str) -> str:
    return os.environ.get("INTERNAL_TOKEN") or hashlib.sha256(f"internal:{secret_key}".encode()).hexdigest()


def require_internal_token(request: Request, settings: SettingsDep) -> None:
    """FastAPI dependency: 401 unless the caller presents the internal token."""
    expected = internal_token(settings.secret_key)
    given = request.headers.get(HEADER, "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status_code=401, detail="internal endpoint: missing or wrong X-Internal-Token")
