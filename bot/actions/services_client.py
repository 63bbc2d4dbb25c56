"""HTTP client for the services app, used by actions: every call has a timeout and never raises to Rasa.

Why a wrapper: an action that raises makes Rasa answer nothing at all; the customer must instead hear that a
system is unavailable, in their language. Callers get a small result object and decide what to say.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import requests

from bot.secret_env import SecretError, read_secret

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = float(os.environ.get("SERVICES_TIMEOUT_SECONDS", "4"))


def services_url() -> str:
    return os.environ.get("SERVICES_URL", "http://127.0.0.1:8000").rstrip("/")


@dataclass
class ServiceResult:
    """``status`` is the HTTP status, or 0 when the service could not be reached."""

    status: int
    body: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def unreachable(self) -> bool:
        return self.status == 0 or self.status >= 500


def call(method: str, path: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS, **kwargs: Any) -> ServiceResult:
    """Call the services app; network errors and timeouts become ``status=0``."""
    url = f"{services_url()}{path}"
    # INTERNAL_TOKEN or INTERNAL_TOKEN_FILE: never from the command line (see bot/secret_env.py).
    try:
        token = read_secret("INTERNAL_TOKEN")
    except SecretError as error:
        log.error("%s; calling the services app without the internal token", error)
        token = ""
    headers = {"X-Internal-Token": token, **kwargs.pop("headers", {})}
    try:
        response = requests.request(method, url, timeout=timeout, headers=headers, **kwargs)
    except requests.RequestException as error:
        log.warning("services app unreachable (%s %s): %s", method, url, error)
        return ServiceResult(status=0)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return ServiceResult(status=response.status_code, body=body)
