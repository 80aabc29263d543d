"""Builds the small ViT fixtures of Tests/GraftTests/ViT*.swift with onnx.helper.

Usage: .venv/bin/python Tests/Fixtures/vit/make_vit.py [OUT_DIR]   (default: this folder)

Every model is a 32x32 RGB classifier in the form PyTorch's TorchScript exporter emits for a
timm-style ViT at opsets below 17: Conv patch embedding (kernel = stride = patch), Reshape +
Transpose to tokens, class token Concat, position-embedding Add, pre-norm blocks whose
LayerNorms are decomposed (ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add) and whose GELU
is the Erf form (two exporter variants), multi-head attention with a fused qkv projection
(Reshape to [1, T, 3, H, hd] - a token count in a shape constant), and a class-token head.
Weights are seeded random numbers (numpy default_rng), so files are reproducible.

Files:
  vit_p4.onnx, vit_p8.onnx, vit_p16.onnx  the same architecture at patch 4, 8, 16
  vit_posfirst_p8.onnx                    position embedding added before the class token
                                          is concatenated (big_vision order), and the
                                          tokens reshaped with [1, D, 16], not [1, D, -1]
  vit_linear_p8.onnx                      the patch embedding in "patchify" form: Reshape to
                                          [1, 3, 4, 8, 4, 8], Transpose to (gh, gw, ph, pw, c),
                                          Reshape to [1, 16, 192], MatMul + Add
  vit_hd16_p8.onnx                        width 32, 2 heads: the head dim (16) equals the
                                          grid's token count, in the same Reshape target
  bad_nopatch.onnx                        a 3x3 stride-1 Conv stem: no patch embedding
  bad_posemb.onnx                         position embedding with 15 tokens for a 4x4 grid
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IMAGE = 32
DIM = 24
HEADS = 2
MLP = 48
DEPTH = 2
CLASSES = 10


class Builder:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.inits = []
        self.count = 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base, array):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array), n))
        return n

    def weight(self, base, shape, scale):
        return self.const(base, (self.rng.standard_normal(shape) * scale).astype(np.float32))

    def op(self, op, inputs, base=None, **attrs):
        out = self.name(base or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name="/" + out, **attrs))
        return out

    def layernorm(self, x):
        m = self.op("ReduceMean", [x], axes=[-1])
        d = self.op("Sub", [x, m])
        p = self.op("Pow", [d, self.const("two", np.float32(2.0))])
        v = self.op("ReduceMean", [p], axes=[-1])
        e = self.op("Add", [v, self.const("eps", np.float32(1e-6))])
        s = self.op("Sqrt", [e])
        n = self.op("Div", [d, s])
        g = self.const("ln_g", (1 + 0.1 * self.rng.standard_normal(DIM)).astype(np.float32))
        b = self.const("ln_b", (0.1 * self.rng.standard_normal(DIM)).astype(np.float32))
        return self.op("Add", [self.op("Mul", [n, g]), b])

    def gelu(self, x, variant):
        if variant == 0:  # x * (1 + erf(x / sqrt2)) * 0.5
            d = self.op("Div", [x, self.const("sqrt2", np.float32(np.sqrt(2.0)))])
            a = self.op("Add", [self.op("Erf", [d]), self.const("one", np.float32(1.0))])
            return self.op("Mul", [self.op("Mul", [x, a]), self.const("half", np.float32(0.5))])
        # (x * 0.5) * (1 + erf(x * 1/sqrt2))
        d = self.op("Mul", [x, self.const("rsqrt2", np.float32(1 / np.sqrt(2.0)))])
        a = self.op("Add", [self.const("one", np.float32(1.0)), self.op("Erf", [d])])
        h = self.op("Mul", [x, self.const("half", np.float32(0.5))])
        return self.op("Mul", [h, a])

    def linear(self, x, n_in, n_out):
        w = self.weight("w", (n_in, n_out), 1 / np.sqrt(n_in))
        b = self.weight("b", (n_out,), 0.1)
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def block(self, x, tokens, variant):
        hd = DIM // HEADS
        h = self.layernorm(x)
        qkv = self.linear(h, DIM, 3 * DIM)
        qkv = self.op("Reshape", [qkv, self.const("shape", np.array([1, tokens, 3, HEADS, hd], np.int64))])
        qkv = self.op("Transpose", [qkv], perm=[2, 0, 3, 1, 4])
        q, k, v = (self.op("Gather", [qkv, self.const("idx", np.int64(i))], axis=0) for i in range(3))
        kt = self.op("Transpose", [k], perm=[0, 1, 3, 2])
        s = self.op("Mul", [self.op("MatMul", [q, kt]), self.const("scale", np.float32(hd ** -0.5))])
        p = self.op("Softmax", [s], axis=-1)
        o = self.op("Transpose", [self.op("MatMul", [p, v])], perm=[0, 2, 1, 3])
        o = self.op("Reshape", [o, self.const("shape", np.array([1, tokens, DIM], np.int64))])
        x = self.op("Add", [x, self.linear(o, DIM, DIM)])
        h = self.layernorm(x)
        h = self.linear(self.gelu(self.linear(h, DIM, MLP), variant), MLP, DIM)
        return self.op("Add", [x, h])


def vit(patch, seed=1, posfirst=False, bad_posemb=False, nopatch=False, linear=False):
    b = Builder(seed)
    grid = IMAGE // patch
    n = grid * grid
    if nopatch:
        w = b.weight("stem_w", (DIM, 3, 3, 3), 0.2)
        f = b.op("Conv", ["image", w], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
        f = b.op("GlobalAveragePool", [f])
        logits = b.op("Flatten", [f], "logits", axis=1)
    elif linear:
        # big_vision-style patchify: [1, 3, g, p, g, p] -> [1, g, g, p, p, 3] -> [1, N, p*p*3] @ W
        t = b.op("Reshape", ["image", b.const("shape", np.array([1, 3, grid, patch, grid, patch], np.int64))])
        t = b.op("Transpose", [t], perm=[0, 2, 4, 3, 5, 1])
        t = b.op("Reshape", [t, b.const("shape", np.array([1, n, patch * patch * 3], np.int64))])
        t = b.linear(t, patch * patch * 3, DIM)
        cls = b.weight("cls_token", (1, 1, DIM), 0.5)
        x = b.op("Add", [b.op("Concat", [cls, t], axis=1), b.weight("pos_embed", (1, n + 1, DIM), 0.5)])
        for i in range(DEPTH):
            x = b.block(x, n + 1, i % 2)
        x = b.layernorm(x)
        c = b.op("Gather", [x, b.const("idx", np.int64(0))], axis=1)
        logits = b.linear(c, DIM, CLASSES)
    else:
        w = b.weight("patch_w", (DIM, 3, patch, patch), 1 / (patch * np.sqrt(3)))
        f = b.op("Conv", ["image", w, b.weight("patch_b", (DIM,), 0.1)], "patch_embed",
                 kernel_shape=[patch, patch], strides=[patch, patch])
        cls = b.weight("cls_token", (1, 1, DIM), 0.5)
        tokens = n if bad_posemb else n + 1
        if posfirst:
            t = b.op("Reshape", [f, b.const("shape", np.array([1, DIM, n], np.int64))])
            t = b.op("Transpose", [t], perm=[0, 2, 1])
            t = b.op("Add", [t, b.weight("pos_embed", (1, n, DIM), 0.5)])
            x = b.op("Concat", [cls, t], axis=1)
        else:
            t = b.op("Reshape", [f, b.const("shape", np.array([1, DIM, -1], np.int64))])
            t = b.op("Transpose", [t], perm=[0, 2, 1])
            t = b.op("Concat", [cls, t], axis=1)
            x = b.op("Add", [t, b.weight("pos_embed", (1, tokens - 1 if bad_posemb else tokens, DIM), 0.5)])
        for i in range(DEPTH):
            x = b.block(x, n + 1, i % 2)
        x = b.layernorm(x)
        c = b.op("Gather", [x, b.const("idx", np.int64(0))], axis=1)
        logits = b.linear(c, DIM, CLASSES)
    b.nodes.append(helper.make_node("Identity", [logits], ["logits"], name="/out"))
    graph = helper.make_graph(
        b.nodes, "vit",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, IMAGE, IMAGE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, CLASSES])],
        b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name="make_vit.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    models = {f"vit_p{p}.onnx": vit(p) for p in (4, 8, 16)}
    models["vit_posfirst_p8.onnx"] = vit(8, seed=2, posfirst=True)
    models["vit_linear_p8.onnx"] = vit(8, seed=3, linear=True)
    global DIM, MLP
    DIM, MLP = 32, 64  # head dim 16 = the 4x4 grid's token count: must not be rewritten
    models["vit_hd16_p8.onnx"] = vit(8, seed=4)
    DIM, MLP = 24, 48
    models["bad_nopatch.onnx"] = vit(8, nopatch=True)
    models["bad_posemb.onnx"] = vit(8, bad_posemb=True)
    for name, m in models.items():
        onnx.save(m, os.path.join(out, name))
    print(" ".join(sorted(models)))


if __name__ == "__main__":
    main()
