"""Start the real product (Rasa server, action server, services app) for end-to-end tests.

The model comes from ``scripts/train_model.py``, cached by the fingerprint of its data, so the first test run
trains it and later runs reuse it. Every test session gets its own free ports and its own data directory, so
tests never touch a running ``make run`` or its databases.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from scripts.stack import RASA_PY, REPO_ROOT, Ports, Stack


def trained_model() -> Path:
    """Train if needed (cached) and return the model path printed by the training script."""
    result = subprocess.run([str(RASA_PY), "-m", "scripts.train_model"], cwd=REPO_ROOT, check=True,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    return Path(result.stdout.strip().splitlines()[-1])


def start_stack(data_dir: Path, extra_env: dict[str, str] | None = None) -> Stack:
    stack = Stack(model_path=trained_model(), ports=Ports.free(), data_dir=data_dir, extra_env=extra_env or {})
    stack.start()
    return stack
