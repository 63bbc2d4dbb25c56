"""Settings of the services app: a YAML file a support lead can read, overridden by environment variables.

Why both: the YAML file documents every knob with a working default; deployments (containers, CI) override
single values through the environment without editing files.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETTINGS_FILE = Path(__file__).with_name("settings.yml")
DATA_DIR = REPO_ROOT / ".data"


@dataclass(frozen=True)
class Settings:
    """Resolved settings; construct with :func:`load_settings`."""

    app_env: str = "embedded"
    database_url: str = "sqlite:///.data/services.db"
    redis_url: str = ""
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = 20.0
    rasa_token: str = ""
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""
    identity_secret: str = ""
    data_dir: Path = field(default=DATA_DIR)
    rasa_tracker_url: str = ""
    retention_days: int = 730
    demo_history: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.demo_history, bool):
            raise ValueError(f"demo_history must be true or false, not {self.demo_history!r}")

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def deployment_namespace(self) -> str:
        """A name that differs between deployments and is shared by every process of one: derived from the
        database (one deployment = one database), so two deployments sharing a Redis never mix their events."""
        return "lumo-" + hashlib.sha256(self.database_url.encode()).hexdigest()[:12]

    @property
    def tracker_store_url(self) -> str:
        """Rasa's tracker store, for erasing a customer's data there: the setting, else the embedded default's
        SQLite file (scripts/stack.py puts it in the data directory); "" in production without the setting."""
        if self.rasa_tracker_url:
            return self.rasa_tracker_url
        return "" if self.is_production else f"sqlite:///{self.data_dir / 'rasa_tracker.db'}"


def _coerce(value: str, current: object) -> object:
    """Environment variables are strings; give them the type of the default."""
    if isinstance(current, bool):
        return value.lower() in {"1", "true", "yes", "on"}
    if isinstance(current, float):
        return float(value)
    if isinstance(current, int):
        return int(value)
    if isinstance(current, Path):
        return Path(value)
    return value


def _absolute_sqlite(url: str, root: Path) -> str:
    """Relative SQLite paths are relative to the repository, not to whatever directory we started in."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        path = root / url[len(prefix):]
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path)
    return url


def _secret(data_dir: Path) -> str:
    """A stable random secret for the embedded mode, so sessions survive restarts."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load_settings(path: Path | None = None, **overrides: object) -> Settings:
    """Read the YAML file, apply environment variables, then explicit overrides (tests use those)."""
    settings_file = Path(os.environ.get("SERVICES_SETTINGS", path or DEFAULT_SETTINGS_FILE))
    raw = yaml.safe_load(settings_file.read_text()) if settings_file.exists() else {}
    values: dict[str, object] = {}
    defaults = Settings()
    for f in fields(Settings):
        current = getattr(defaults, f.name)
        value: object = raw.get(f.name, current) if isinstance(raw, dict) else current
        env_value = os.environ.get(f.name.upper())
        if env_value is not None and env_value != "":
            value = _coerce(env_value, current)
        values[f.name] = value
    values.update(overrides)
    data_dir = Path(values["data_dir"])  # type: ignore[arg-type]
    values["database_url"] = _absolute_sqlite(str(values["database_url"]), REPO_ROOT)
    if not values["secret_key"]:
        values["secret_key"] = _secret(data_dir)
    return Settings(**values)  # type: ignore[arg-type]
