"""The real services app process (``python -m services``): its access log masks personal data in URLs, the
files it creates are private, and it listens on loopback only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.stack import REPO_ROOT, free_port
from tests.listening import LOOPBACK_V4, listening_addresses
from tests.processes import wait_healthy

pytestmark = pytest.mark.slow

CPF = "529.982.247-25"


@pytest.fixture(scope="module")
def services_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path, int]]:
    data_dir = tmp_path_factory.mktemp("svc") / "data"  # does not exist yet: the app creates it
    log_path = data_dir.parent / "services.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"HOST", "SERVICES_HOST", "INTERNAL_TOKEN"}}
    env.update({"PYTHONPATH": str(REPO_ROOT), "OMP_WAIT_POLICY": "PASSIVE", "DATA_DIR": str(data_dir),
                "DATABASE_URL": f"sqlite:///{data_dir / 'services.db'}", "APP_ENV": "embedded"})
    with log_path.open("wb") as log:
        # The test's own umask is the usual 022: the app must make its files private by itself.
        proc = subprocess.Popen([sys.executable, "-m", "services", "--port", str(port)], cwd=REPO_ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, umask=0o022)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, f"{url}/api/health", log_path, "services app", timeout=180, poll=0.5)
        yield url, data_dir, log_path, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_access_log_masks_a_cpf_in_the_query(services_process) -> None:
    url, _, log_path, _ = services_process
    httpx.get(f"{url}/api/search", params={"q": f"meu cpf é {CPF}", "lang": "pt"}, timeout=30)
    httpx.get(f"{url}/api/search", params={"q": "ana.silva@gmail.com"}, timeout=30)
    httpx.get(f"{url}/api/orders/20481234", timeout=30)
    time.sleep(0.5)
    log = log_path.read_text()
    assert "GET /api/search?q=" in log, log[-2000:]  # the access log is on
    for secret in (CPF, "529.982.247", "ana.silva", "ana.silva%40gmail.com"):
        assert secret not in log
    assert "***.***.***-25" in log
    assert "/api/orders/20481234" in log  # order numbers are not personal data


def test_files_it_creates_are_private(services_process) -> None:
    _, data_dir, _, _ = services_process
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    created = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "services.db" for p in created)
    for path in created:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path} is readable by others"


def test_listens_on_loopback_only(services_process) -> None:
    *_, port = services_process
    assert listening_addresses(port) == {LOOPBACK_V4}


def test_oversized_websocket_frames_are_refused_before_they_are_buffered(services_process) -> None:
    """uvicorn's default buffers frames up to 16 MiB before the app's limits apply (memory grew ~200 MB under ten
    clients); the app process refuses anything over its WS_MAX_BYTES with close code 1009 (message too big)."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from services.__main__ import WS_MAX_BYTES

    url, _, _, port = services_process
    with connect(f"ws://127.0.0.1:{port}/ws/chat", max_size=None, open_timeout=30) as ws:
        ws.send('{"type": "hello", "lang": "pt"}')
        assert '"welcome"' in ws.recv(timeout=30)
        ws.send('{"type": "message", "text": "' + "a" * (WS_MAX_BYTES + 1024) + '"}')
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
