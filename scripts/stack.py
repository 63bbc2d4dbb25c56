"""Start and stop the whole product as real processes: Rasa server, action server and services app.

Used by ``make run`` (scripts/run_all.py) and by the end-to-end tests (tests/stack.py), so the tests exercise
exactly what a newcomer runs. Each process gets its own log file; stopping terminates whole process groups so
no server is left behind.

Security (issue #12): every process binds to 127.0.0.1 (``HOST`` changes it); the secrets of a run — the Rasa
API token, the internal token and the action server's token — are generated here and reach the processes
through their environment only, never their command line (``ps`` shows command lines to every user); the
data directory, the log files and everything the processes create are private to the user (umask 077), and
the log lines are masked for personal data before they are written.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parent.parent
PRIVATE_UMASK = 0o077
RASA_PY = REPO_ROOT / ".venv" / "rasa" / "bin" / "python"
SERVICES_PY = REPO_ROOT / ".venv" / "services" / "bin" / "python"


class PortInUse(RuntimeError):
    """A port the stack needs is taken by another program."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port nobody listens on now (for tests, which must not collide with a running `make run`)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Ports:
    rasa: int = 5005
    actions: int = 5055
    services: int = 8000

    @classmethod
    def from_env(cls) -> Ports:
        return cls(int(os.environ.get("RASA_PORT", 5005)), int(os.environ.get("ACTIONS_PORT", 5055)),
                   int(os.environ.get("SERVICES_PORT", 8000)))

    @classmethod
    def free(cls) -> Ports:
        return cls(free_port(), free_port(), free_port())


@dataclass
class Process:
    name: str
    command: list[str]
    health_url: str
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen | None = None
    _pump: threading.Thread | None = None

    def start(self, echo: Callable[[str, str], None] | None) -> None:
        from services.privacy import redact_log_text

        make_private_dir(self.log_path.parent)
        log = open_private_log(self.log_path)
        self.popen = subprocess.Popen(self.command, cwd=REPO_ROOT, env=self.env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, start_new_session=True, umask=PRIVATE_UMASK)

        def pump() -> None:
            # Second line of defence: the processes mask their own log records (pii/logs.py), but output that
            # bypasses logging (prints, warnings, a crash's traceback) is masked here before it is written.
            assert self.popen and self.popen.stdout
            for raw in iter(self.popen.stdout.readline, b""):
                line = redact_log_text(raw.decode("utf-8", "replace"))
                log.write(line.encode("utf-8"))
                if echo:
                    echo(self.name, line.rstrip())
            log.close()

        self._pump = threading.Thread(target=pump, daemon=True, name=f"log-{self.name}")
        self._pump.start()

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError, TimeoutError):
            return False

    def stop(self, timeout: float = 15) -> None:
        if not self.popen or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) readable by this user only; tighten it if it already existed."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def open_private_log(path: Path):  # -> BinaryIO
    """Append-only log file readable by this user only (also when it was created world-readable before)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab", buffering=0)


def make_tree_private(root: Path) -> None:
    """Remove group/other permissions from everything under ``root`` (data written before this was enforced)."""
    make_private_dir(root)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            try:
                if not path.is_symlink():
                    path.chmod(0o700 if path.is_dir() else path.stat().st_mode & 0o700)
            except OSError as error:  # e.g. a file another user created: report it, start anyway
                print(f"warning: cannot make {path} private: {error.strerror}", file=sys.stderr)


@dataclass
class Stack:
    """The three processes of the product, wired to each other on the given ports."""

    model_path: Path
    ports: Ports = field(default_factory=Ports)
    data_dir: Path = REPO_ROOT / ".data"
    extra_env: dict[str, str] = field(default_factory=dict)
    production: bool = False
    processes: list[Process] = field(default_factory=list)
    rasa_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    internal_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    action_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    @property
    def services_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.services}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rasa}"

    def check_ports(self) -> None:
        for name, port in (("Rasa server", self.ports.rasa), ("action server", self.ports.actions),
                           ("services app", self.ports.services)):
            if not port_is_free(port):
                env_name = {"Rasa server": "RASA_PORT", "action server": "ACTIONS_PORT",
                            "services app": "SERVICES_PORT"}[name]
                raise PortInUse(f"port {port} (for the {name}) is already in use by another program. "
                                f"Stop it, or choose another port: {env_name}=<port> make run")

    def _endpoints_file(self) -> Path:
        """Endpoints for this run: the action server on our port, the tracker store in our data dir."""
        if self.production:
            return REPO_ROOT / "endpoints.production.yml"
        path = self.data_dir / "endpoints.generated.yml"
        # The action server's token stays a ${...} reference that Rasa fills from its environment.
        path.write_text(
            "# Written by scripts/stack.py for this run; edit endpoints.yml instead.\n"
            f"action_endpoint:\n  url: \"http://127.0.0.1:{self.ports.actions}/webhook\"\n"
            "  headers:\n    X-Action-Token: ${ACTION_SERVER_TOKEN}\n"
            "tracker_store:\n  type: SQL\n  dialect: sqlite\n"
            f"  db: \"{self.data_dir / 'rasa_tracker.db'}\"\n"
        )
        path.chmod(0o600)
        return path

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"PYTHONHOME", "VIRTUAL_ENV"}}
        env.update({
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            "OMP_WAIT_POLICY": "PASSIVE",
            "TOKENIZERS_PARALLELISM": "false",
            "SERVICES_URL": self.services_url,
            "RASA_URL": self.rasa_url,
            "RASA_TOKEN": self.rasa_token,
            "INTERNAL_TOKEN": self.internal_token,
            "ACTION_SERVER_TOKEN": self.action_token,
            "PUBLIC_URL": self.services_url,
            "SERVICES_PORT": str(self.ports.services),
            "DATA_DIR": str(self.data_dir),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        })
        # Offline by default; HF_HUB_OFFLINE=0 lets a deployer with internet use a hub model.
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("TRANSFORMERS_OFFLINE", env["HF_HUB_OFFLINE"])
        if self.production:
            env["APP_ENV"] = "production"
            # Rasa's production endpoints read these; local defaults match the servers on a developer machine.
            env.setdefault("ACTION_ENDPOINT_URL", f"http://127.0.0.1:{self.ports.actions}/webhook")
            for key, default in (("RASA_DB_HOST", "127.0.0.1"), ("RASA_DB_PORT", "5432"), ("RASA_DB_USER", "postgres"),
                                 ("RASA_DB_PASSWORD", ""), ("RASA_DB_NAME", "lumo_rasa"),
                                 ("RASA_REDIS_HOST", "127.0.0.1"), ("RASA_REDIS_PORT", "6379")):
                env.setdefault(key, default)
            # The services erase a customer's data in Rasa's tracker store too (services/privacy/subject.py).
            password = f":{quote(env['RASA_DB_PASSWORD'], safe='')}" if env["RASA_DB_PASSWORD"] else ""
            env.setdefault("RASA_TRACKER_URL", f"postgresql+psycopg://{env['RASA_DB_USER']}{password}@"
                                               f"{env['RASA_DB_HOST']}:{env['RASA_DB_PORT']}/{env['RASA_DB_NAME']}")
        else:
            env["DATABASE_URL"] = f"sqlite:///{self.data_dir / 'services.db'}"
        env.update(self.extra_env)
        return env

    def build(self) -> None:
        make_tree_private(self.data_dir)
        logs = self.data_dir / "logs"
        env = self._env()
        # No secret on any command line: bot.rasa_server and bot.action_server read them from the environment.
        self.processes = [
            Process("actions", [str(RASA_PY), "-m", "bot.action_server", "--port", str(self.ports.actions)],
                    f"http://127.0.0.1:{self.ports.actions}/health", env, logs / "actions.log"),
            Process("rasa", [str(RASA_PY), "-m", "bot.rasa_server", "--enable-api",
                             "--cors", "*", "--model", str(self.model_path), "--endpoints",
                             str(self._endpoints_file()), "--credentials", str(REPO_ROOT / "credentials.yml"),
                             "--port", str(self.ports.rasa)],
                    f"http://127.0.0.1:{self.ports.rasa}/", env, logs / "rasa.log"),
            Process("services", [str(SERVICES_PY), "-m", "services", "--port", str(self.ports.services)],
                    f"{self.services_url}/api/health", env, logs / "services.log"),
        ]

    def start(self, echo: Callable[[str, str], None] | None = None, timeout: float = 300) -> None:
        """Start every process and wait until each answers its health check."""
        self.check_ports()
        self.build()
        for process in self.processes:
            process.start(echo)
        deadline = time.monotonic() + timeout
        waiting = list(self.processes)
        while waiting:
            for process in list(waiting):
                if not process.running():
                    self.stop()
                    raise RuntimeError(f"the {process.name} process exited during start-up; last log lines:\n"
                                       f"{process.log_tail()}")
                if process.healthy():
                    waiting.remove(process)
            if time.monotonic() > deadline:
                self.stop()
                names = ", ".join(p.name for p in waiting)
                raise TimeoutError(f"{names} did not become healthy in {timeout:.0f} s")
            time.sleep(0.5)

    def restart(self, name: str, echo: Callable[[str, str], None] | None = None, timeout: float = 120) -> None:
        """Restart one process (tests use it to prove nothing is lost across a restart)."""
        process = next(p for p in self.processes if p.name == name)
        process.stop()
        process.start(echo)
        deadline = time.monotonic() + timeout
        while not process.healthy():
            if not process.running() or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not come back:\n{process.log_tail()}")
            time.sleep(0.3)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def use_model(self, model: Path) -> None:
        """Serve ``model`` the next time the Rasa server starts (a restart after a lead promoted a version)."""
        self.model_path = model
        for process in self.processes:
            if process.name == "rasa" and "--model" in process.command:
                process.command[process.command.index("--model") + 1] = str(model)

    def first_exited(self) -> Process | None:
        return next((p for p in self.processes if p.popen is not None and not p.running()), None)


@dataclass
class Supervisor:
    """Restarts a process of the stack that died, the way a process manager would, up to ``max_restarts``
    within ``window_seconds`` (a process that keeps crashing is a fault to report, not to hide).

    Why: one crashed process used to stop the whole product; now the others keep serving (the chat gateway
    tells customers the assistant is briefly unavailable and stores their messages) while it comes back.
    A restarted Rasa server loads the model customers were talking to (the promoted version, if any).
    """

    stack: Stack
    max_restarts: int = 5
    window_seconds: float = 300.0
    restarts: dict[str, list[float]] = field(default_factory=dict)

    def check(self, echo: Callable[[str, str], None] | None = None) -> str | None:
        """Restart whatever died; an error message when a process exceeded its restarts (stop everything)."""
        for process in self.stack.processes:
            if process.popen is None or process.running():
                continue
            now = time.monotonic()
            recent = [t for t in self.restarts.get(process.name, []) if now - t < self.window_seconds]
            code = process.popen.returncode
            if len(recent) >= self.max_restarts:
                return (f"the {process.name} process died {len(recent) + 1} times in "
                        f"{self.window_seconds / 60:.0f} min (exit code {code}); last log lines:\n{process.log_tail()}")
            self.restarts[process.name] = [*recent, now]
            if echo:
                echo(process.name, f"exited with code {code}; restarting ({len(recent) + 1}/{self.max_restarts})")
            if process.name == "rasa":
                self.stack.use_model(latest_model())
            process.start(echo)
        return None


def promoted_model() -> Path | None:
    """The model version a lead promoted in the workspace (its registry's pointer file), if any.

    Why here: after a restart, ``make run`` must serve what customers were talking to, not the model the
    repository's data trains (services/workspace/model_store.py writes ``<paths.models>/promoted``).
    """
    import yaml

    settings = Path(os.environ.get("WORKSPACE_SETTINGS") or REPO_ROOT / "services" / "workspace" / "workspace.yml")
    try:
        raw = yaml.safe_load(settings.read_text()) or {}
    except (OSError, yaml.YAMLError):
        raw = {}
    folder = REPO_ROOT / ((raw.get("paths") or {}).get("models") or ".data/models")
    pointer = folder / "promoted"
    if not pointer.is_file():
        return None
    path = Path(pointer.read_text().strip())
    return path if path.is_file() else None


def latest_model(models_dir: Path = REPO_ROOT / ".cache" / "models") -> Path:
    """The model to serve: the promoted version (workspace registry), else the one `make train` produced last."""
    if models_dir == REPO_ROOT / ".cache" / "models" and (promoted := promoted_model()) is not None:
        return promoted
    pointer = models_dir / "latest"
    if not pointer.exists():
        sys.exit("no trained model: run `make train` (or `make run`, which trains when needed)")
    return models_dir / pointer.read_text().strip()
