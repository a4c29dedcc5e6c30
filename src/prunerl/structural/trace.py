"""Trace a module with torch.fx and record every tensor's shape: the raw material of grouping.

Also the tables that say how each operation treats channels (elementwise, spatial, reshape,
reduction, binary), so that :mod:`prunerl.structural.groups` stays one set of rules.
"""

from __future__ import annotations

import fnmatch
import operator
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Parameter-free layers that act on each value alone (a channel stays a channel).
ELEMENTWISE_MODULES = _words(
    "ReLU LeakyReLU ELU SELU CELU GELU SiLU Mish Tanh Sigmoid Softplus Softsign Hardtanh "
    "ReLU6 Hardswish Hardsigmoid Tanhshrink Softshrink Hardshrink Identity Dropout Dropout1d "
    "Dropout2d Dropout3d AlphaDropout"
)
#: Layers that act on spatial axes only, with how many trailing axes they touch.
SPATIAL_MODULES = {
    f"{kind}{n}d": n
    for n in (1, 2, 3)
    for kind in ("MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "ZeroPad")
}
ELEMENTWISE_FUNCTIONS: frozenset[object] = (
    frozenset({torch.relu, torch.tanh, torch.sigmoid, torch.abs, torch.neg, torch.exp})
    | frozenset({torch.square, torch.clamp, operator.neg, operator.abs, F.relu, F.leaky_relu})
    | frozenset({F.elu, F.selu, F.gelu, F.silu, F.mish, F.softplus, F.hardtanh, F.relu6})
    | frozenset({F.hardswish, F.dropout, F.tanh, F.sigmoid})
)
ELEMENTWISE_METHODS = _words(
    "relu tanh sigmoid abs neg exp square clamp clip float double half to type_as contiguous "
    "clone detach relu_ tanh_ sigmoid_"
)
BINARY_FUNCTIONS: frozenset[object] = (
    frozenset({operator.add, operator.sub, operator.mul, operator.truediv, operator.iadd})
    | frozenset({operator.isub, operator.imul, torch.add, torch.sub, torch.mul, torch.div})
    | frozenset({torch.maximum, torch.minimum})
)
BINARY_METHODS = _words("add sub mul div add_ sub_ mul_ div_ maximum minimum")
DIVISIONS: frozenset[object] = frozenset([operator.truediv, torch.div, "div", "div_"])
RESHAPE_FUNCTIONS: frozenset[object] = frozenset(
    [torch.flatten, torch.reshape, torch.squeeze, torch.unsqueeze]
)
RESHAPE_METHODS = _words("flatten view reshape squeeze unsqueeze")
REDUCTIONS = _words("mean sum amax amin std var logsumexp norm prod softmax log_softmax")
REDUCTION_FUNCTIONS: dict[object, str] = {
    torch.mean: "mean",
    torch.sum: "sum",
    torch.amax: "amax",
    torch.amin: "amin",
    torch.softmax: "softmax",
    torch.log_softmax: "log_softmax",
    F.softmax: "softmax",
    F.log_softmax: "log_softmax",
    torch.logsumexp: "logsumexp",
}
SHAPE_QUERIES = frozenset(["size", "dim"])


class _Tracer(fx.Tracer):
    """fx tracer that keeps modules named in ``opaque`` (glob patterns) as single nodes."""

    def __init__(self, opaque: Sequence[str]) -> None:
        super().__init__()
        self.opaque = list(opaque)

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if any(fnmatch.fnmatchcase(module_qualified_name, p) for p in self.opaque):
            return True
        return super().is_leaf_module(m, module_qualified_name)


def default_example(model: nn.Module, batch: int = 4) -> torch.Tensor:
    """A random batch for models whose first layer is a Linear (its in_features fix the shape)."""
    first = next((m for m in model.modules() if type(m).__name__ in _FIRST_LAYERS), None)
    if not isinstance(first, nn.Linear):
        kind = type(first).__name__ if first is not None else "no Linear/Conv layer"
        raise ValueError(
            f"cannot guess an input shape for {type(model).__name__} (its first layer is "
            f"{kind}); pass example=torch.zeros(batch, *obs_shape)"
        )
    p = first.weight
    gen = torch.Generator().manual_seed(0)
    return torch.randn(batch, first.in_features, generator=gen).to(p.device, p.dtype)


_FIRST_LAYERS = frozenset(["Linear", "Conv1d", "Conv2d", "Conv3d"])


def trace(
    model: nn.Module, example: torch.Tensor | None = None, opaque: Sequence[str] = ()
) -> tuple[fx.GraphModule, torch.Tensor]:
    """fx-trace ``model`` and propagate ``example`` so every node carries its output shape.

    Runs the model once in eval mode without gradients, so BatchNorm statistics and the
    model's mode are left as they were.
    """
    if example is None:
        example = default_example(model)
    try:
        graph = _Tracer(opaque).trace(model)
    except Exception as exc:
        raise ValueError(
            f"cannot trace {type(model).__name__} with torch.fx ({type(exc).__name__}: {exc}); "
            "structural pruning needs a forward without data-dependent Python control flow: "
            "pass opaque=['name.of.submodule'] for the part that branches, or prune a "
            "wrapper module whose forward is traceable"
        ) from None
    gm = fx.GraphModule(model, graph)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            ShapeProp(gm).propagate(example)
    except Exception as exc:
        root: BaseException = exc
        while root.__cause__ is not None:  # fx wraps the model's own error
            root = root.__cause__
        raise ValueError(
            f"running {type(model).__name__} on the example of shape {tuple(example.shape)} "
            f"failed ({type(root).__name__}: {root}); pass an example batch the model accepts"
        ) from None
    finally:
        model.train(was_training)
    return gm, example


def shape_of(node: object) -> tuple[int, ...] | None:
    """The output shape recorded on an fx node, or None when it is not a single tensor."""
    if not isinstance(node, fx.Node):
        return None
    meta = node.meta.get("tensor_meta")
    shape = getattr(meta, "shape", None)
    return tuple(int(s) for s in shape) if shape is not None else None


def reduced_dims(node: fx.Node, ndim: int) -> list[int] | None:
    """The axes a reduction node reduces over (non-negative), or None for all of them."""
    dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
    if dim is None:
        return None
    dims = list(dim) if isinstance(dim, (tuple, list)) else [dim]
    ints = [d for d in dims if isinstance(d, int)]
    if len(ints) != len(dims):
        return None
    return sorted(d % ndim for d in ints)
