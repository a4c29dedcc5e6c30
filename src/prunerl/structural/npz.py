"""Translate a torch policy into the numpy runtime's ops (the npz layout of prunerl.runtime).

The forward is traced with torch.fx; each node becomes one op over numbered registers. Layers
and operations the runtime cannot run are an error naming them (export to TorchScript or ONNX
instead). BatchNorm is folded to a per-channel affine (eval-mode statistics).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn

from prunerl.runtime.format import csr_arrays, csr_bytes
from prunerl.structural.npz_layers import layer_op
from prunerl.structural.trace import reduced_dims, shape_of, trace

_FUNCTIONS: dict[object, str] = {
    torch.relu: "relu",
    F.relu: "relu",
    torch.tanh: "tanh",
    F.tanh: "tanh",
    torch.sigmoid: "sigmoid",
    F.sigmoid: "sigmoid",
    F.silu: "silu",
    "relu": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
}
_BINARY: dict[object, str] = {
    operator.add: "add",
    torch.add: "add",
    "add": "add",
    operator.sub: "sub",
    torch.sub: "sub",
    "sub": "sub",
    operator.mul: "mul",
    torch.mul: "mul",
    "mul": "mul",
    operator.truediv: "div",
    torch.div: "div",
    "div": "div",
}
_RESHAPES: frozenset[object] = frozenset(
    {torch.flatten, torch.reshape, "flatten", "view", "reshape", "squeeze", "unsqueeze"}
)
_REDUCTIONS: dict[object, str] = {
    torch.mean: "mean",
    "mean": "mean",
    torch.sum: "sum",
    "sum": "sum",
}
_SOFTMAX: frozenset[object] = frozenset({torch.softmax, F.softmax, "softmax"})
_PASS: frozenset[object] = frozenset({"float", "contiguous", "clone", "detach", "to", F.dropout})
_NON_TENSOR: frozenset[object] = frozenset({"size", "dim", getattr})
_SPLITS: frozenset[object] = frozenset({torch.split, "split", torch.chunk, "chunk"})
_CLAMPS: frozenset[object] = frozenset({torch.clamp, "clamp", "clip"})


class _Converter:
    """Walks the traced graph, emitting ops and arrays."""

    def __init__(self, gm: fx.GraphModule, batch: int, sparse: str) -> None:
        self.gm, self.batch, self.sparse = gm, batch, sparse
        self.ops: list[dict[str, Any]] = []
        self.arrays: dict[str, np.ndarray] = {}
        self.reg: dict[fx.Node, int | None] = {}
        self.pieces: dict[fx.Node, list[tuple[int, int, int, int]]] = {}  # split results
        self.outputs: list[int] = []

    def emit(
        self,
        kind: str,
        ins: list[int],
        params: dict[str, torch.Tensor | None] | None = None,
        **attrs: Any,
    ) -> int:
        idx = len(self.ops)
        names = {}
        for name, t in (params or {}).items():
            if t is None:
                continue
            key = f"p{idx}.{name}"
            a = t.detach().cpu().float().numpy()
            if kind == "linear" and name == "weight" and self._use_csr(a):
                self.arrays.update(csr_arrays(key, a))
            else:
                self.arrays[key] = a
            names[name] = key
        self.ops.append({"op": kind, "in": ins, "out": idx + 1, "params": names, "attrs": attrs})
        return idx + 1

    def _use_csr(self, a: np.ndarray) -> bool:
        if self.sparse in ("never", "dense"):
            return False
        if self.sparse in ("always", "csr"):
            return True
        return csr_bytes(a) < a.size * 4  # "auto": when CSR is smaller

    def run(self) -> None:
        for node in self.gm.graph.nodes:
            self.reg[node] = self.visit(node)

    def arg(self, node: fx.Node, a: object) -> int:
        r = self.reg.get(a) if isinstance(a, fx.Node) else None
        if r is None:
            raise ValueError(
                f"npz export: {node.op} {node.target!r} reads {a!r}, which is not a tensor the "
                "runtime computes; export to torchscript or onnx instead"
            )
        return r

    def visit(self, node: fx.Node) -> int | None:
        if node.op == "placeholder":
            if any(n.op == "placeholder" for n in self.reg):
                raise ValueError("npz export supports policies with one observation input")
            return 0
        if node.op == "get_attr":
            return self.emit("const", [], {"value": _attr(self.gm, node)})
        if node.op == "output":
            outs = node.args[0]
            items = list(outs) if isinstance(outs, (tuple, list)) else [outs]
            self.outputs = [self.arg(node, o) for o in items]
            return None
        if not node.users:  # dead code, e.g. a log-std the deterministic action ignores
            return None
        if node.op == "call_module":
            return self.module(node, self.gm.get_submodule(str(node.target)))
        return self.function(node)

    def module(self, node: fx.Node, m: nn.Module) -> int | None:
        x = self.arg(node, node.args[0])
        if type(m).__name__ == "Flatten":
            return self.reshape(node, x)
        op = layer_op(m, str(node.target))
        if op is None:  # Identity, Dropout: nothing to compute
            return x
        kind, params, attrs = op
        return self.emit(kind, [x], params, **attrs)

    def function(self, node: fx.Node) -> int | None:
        t = node.target
        if t in _NON_TENSOR:
            return None
        if t in _PASS:
            return self.arg(node, node.args[0])
        if t in _FUNCTIONS:
            return self.emit(_FUNCTIONS[t], [self.arg(node, node.args[0])])
        if t in _SPLITS:
            self.split(node, t in (torch.chunk, "chunk"))
            return None
        source, index = node.args[0], node.args[1] if len(node.args) > 1 else None
        if t is operator.getitem and isinstance(source, fx.Node) and source in self.pieces:
            assert isinstance(index, int)
            x, axis, start, stop = self.pieces[source][index]
            return self.emit("slice", [x], axis=axis, start=start, stop=stop)
        if t in _CLAMPS:
            low = node.kwargs.get("min", node.args[1] if len(node.args) > 1 else None)
            high = node.kwargs.get("max", node.args[2] if len(node.args) > 2 else None)
            if not all(v is None or isinstance(v, (int, float)) for v in (low, high)):
                raise ValueError("npz export: clamp needs constant bounds")
            return self.emit("clamp", [self.arg(node, node.args[0])], min=low, max=high)
        if t in _BINARY:
            return self.binary(node, _BINARY[t])
        if t in _RESHAPES:
            return self.reshape(node, self.arg(node, node.args[0]))
        if t in _REDUCTIONS or t in _SOFTMAX:
            dims = reduced_dims(node, len(shape_of(node.args[0]) or ()))
            if dims is None:
                raise ValueError(f"npz export: {t!r} over all axes is not supported")
            x = self.arg(node, node.args[0])
            if t in _SOFTMAX:
                return self.emit("softmax", [x], axis=dims[0])
            keep = bool(node.kwargs.get("keepdim", node.args[2] if len(node.args) > 2 else False))
            return self.emit(_REDUCTIONS[t], [x], axis=dims, keepdim=keep)
        what = t if isinstance(t, str) else getattr(t, "__name__", repr(t))
        raise ValueError(
            f"npz export: operation {what!r} is not supported by the numpy runtime; export "
            "to torchscript or onnx instead"
        )

    def split(self, node: fx.Node, chunk: bool) -> None:
        """Remember the pieces of a split/chunk; ``piece[i]`` becomes a slice op."""
        x = self.arg(node, node.args[0])
        src = shape_of(node.args[0]) or ()
        arg = node.kwargs.get("split_size_or_sections", node.args[1] if len(node.args) > 1 else 1)
        dim = node.kwargs.get("dim", node.args[2] if len(node.args) > 2 else 0)
        if not isinstance(dim, int) or not src or (dim % len(src)) == 0:
            raise ValueError("npz export: split/chunk must be along a non-batch axis")
        axis, total = dim % len(src), src[dim % len(src)]
        if chunk:
            assert isinstance(arg, int)
            step = -(-total // arg)
            sizes = [min(step, total - i) for i in range(0, total, step)]
        elif isinstance(arg, int):
            sizes = [min(arg, total - i) for i in range(0, total, arg)]
        elif isinstance(arg, (list, tuple)):
            sizes = [v for v in arg if isinstance(v, int)]
        else:
            raise ValueError(f"npz export: split sizes {arg!r} must be constants")
        starts = [sum(sizes[:i]) for i in range(len(sizes))]
        self.pieces[node] = [(x, axis, a, a + n) for a, n in zip(starts, sizes, strict=True)]

    def binary(self, node: fx.Node, kind: str) -> int:
        a, b = node.args[0], node.args[1] if len(node.args) > 1 else node.kwargs.get("other")
        if isinstance(a, fx.Node) and isinstance(b, fx.Node):
            return self.emit(kind, [self.arg(node, a), self.arg(node, b)])
        if isinstance(a, fx.Node) and isinstance(b, (int, float)):
            return self.emit(kind, [self.arg(node, a)], scalar=float(b))
        if isinstance(b, fx.Node) and isinstance(a, (int, float)):
            return self.emit(kind, [self.arg(node, b)], scalar=float(a), reverse=True)
        raise ValueError(f"npz export: {kind} of {a!r} and {b!r} is not supported")

    def reshape(self, node: fx.Node, x: int) -> int:
        shape = shape_of(node)
        if shape is None or not shape or shape[0] != self.batch:
            raise ValueError(
                f"npz export: reshape at {node.name!r} to {shape} changes the batch axis; "
                "the runtime keeps axis 0 as the batch"
            )
        return self.emit("reshape", [x], shape=[-1, *shape[1:]])


def _attr(gm: fx.GraphModule, node: fx.Node) -> torch.Tensor:
    value: Any = gm
    for part in str(node.target).split("."):
        value = getattr(value, part)
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"npz export: attribute {node.target!r} is not a tensor")
    return value


def convert(
    model: nn.Module, example: torch.Tensor | None, sparse: str = "auto"
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray], list[int], torch.Tensor]:
    """(ops, arrays, output registers, example) of ``model`` in eval mode."""
    if sparse not in ("auto", "always", "never"):
        raise ValueError(f"sparse must be 'auto', 'always' or 'never', got {sparse!r}")
    gm, example = trace(model, example)
    if example.dim() < 2 or example.shape[0] < 2:
        raise ValueError("export needs an example batch of at least 2 observations")
    conv = _Converter(gm, int(example.shape[0]), sparse)
    with torch.no_grad():
        conv.run()
    return conv.ops, conv.arrays, conv.outputs, example
