"""Dependency groups: which channels of which layers must be removed together.

A Linear's output rows, the next layer's input columns, a BatchNorm's or LayerNorm's features,
a conv's filters through Flatten into the first Linear (each channel owning H×W columns), every
head reading a shared trunk, and every block writing into one residual stream: each such set is
one :class:`Group`. Groups are found by tracing the forward with torch.fx and following each
tensor's channel axis through the graph; an operation the rules do not know never gets a wrong
cut: the channels it touches are *pinned* (kept whole), and a layer type without a handler is an
error naming the layer.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

import torch
from torch import fx, nn

from prunerl.structural import trace as T
from prunerl.structural.channels import Feat, Group, Member, Spaces
from prunerl.structural.handlers import handler_for, handlers


class UnsupportedLayerError(ValueError):
    """A layer type structural pruning cannot cut (no handler registered for it)."""


def find_groups(
    model: nn.Module, example: torch.Tensor | None = None, *, opaque: Sequence[str] = ()
) -> list[Group]:
    """Trace ``model`` on ``example`` and return its channel groups, prunable or pinned.

    ``example`` is a batch of observations (guessed when the first layer is a Linear);
    ``opaque`` names submodules (glob patterns) kept whole, e.g. a recurrent core.
    """
    gm, _ = T.trace(model, example, opaque)
    return _Grouper(gm, list(opaque)).run()


class _Grouper:
    """Walks the fx graph once, giving each tensor its channel axis (or none)."""

    def __init__(self, gm: fx.GraphModule, opaque: list[str]) -> None:
        self.gm = gm
        self.opaque = opaque
        self.spaces = Spaces()
        self.val: dict[fx.Node, Feat | None] = {}
        self.by_module: dict[tuple[str, str], int] = {}

    def run(self) -> list[Group]:
        attrs: list[str] = []
        for node in self.gm.graph.nodes:
            if node.op == "get_attr":
                attrs.append(str(node.target))
            self.val[node] = self._visit(node)
        groups: dict[int, Group] = {}
        for space in range(len(self.spaces.parent)):
            root = self.spaces.find(space)
            if root not in groups:
                members = self.spaces.members[root]
                pinned = self.spaces.pinned[root]
                used = [a for a in attrs for m in members if a.startswith(m.module + ".")]
                if used and pinned is None:
                    pinned = f"parameter {used[0]!r} is read directly in forward"
                groups[root] = Group(self.spaces.size[root], list(members), pinned)
        return [g for g in groups.values() if g.members]

    # ------------------------------------------------------------------ helpers
    def _feat(self, arg: object) -> Feat | None:
        return self.val.get(arg) if isinstance(arg, fx.Node) else None

    def _pin_all(self, a: object, reason: str) -> None:
        """Pin the channels of every tensor in ``a`` (nested tuples, lists and dicts)."""
        if isinstance(a, (tuple, list)):
            for x in a:
                self._pin_all(x, reason)
        elif isinstance(a, dict):
            for x in a.values():
                self._pin_all(x, reason)
        else:
            f = self._feat(a)
            if f is not None:
                self.spaces.pin(f.space, reason)

    def _space_for(self, module: str, role: str, size: int, existing: int | None) -> int:
        """The channel set a module plays ``role`` in; a module called twice joins its sets."""
        key = (module, role)
        if key not in self.by_module:
            self.by_module[key] = existing if existing is not None else self.spaces.new(size)
        elif existing is not None:
            self.by_module[key] = self.spaces.union(self.by_module[key], existing)
        return self.by_module[key]

    # ------------------------------------------------------------------ rules
    def _visit(self, node: fx.Node) -> Feat | None:
        if node.op in ("placeholder", "get_attr"):
            return None
        if node.op == "output":
            self._pin_all(node.args, "network output")
            return None
        if node.op == "call_module":
            return self._module(node)
        target = node.target
        name = target if isinstance(target, str) else None
        x = self._feat(node.args[0]) if node.args else None
        if target in T.ELEMENTWISE_FUNCTIONS or name in T.ELEMENTWISE_METHODS:
            return x
        if target in T.BINARY_FUNCTIONS or name in T.BINARY_METHODS:
            return self._binary(node, target in T.DIVISIONS or name in T.DIVISIONS)
        if target in T.RESHAPE_FUNCTIONS or name in T.RESHAPE_METHODS:
            return self._reshape(node, x)
        kind = name if name else T.REDUCTION_FUNCTIONS.get(target)
        if kind in T.REDUCTIONS:
            return self._reduce(node, x, keep_shape=kind in ("softmax", "log_softmax"))
        if name in T.SHAPE_QUERIES or target is getattr:
            return None
        what = name or getattr(target, "__name__", str(target))
        self._pin_all((node.args, node.kwargs), f"used by operation {what!r}")
        return None

    def _module(self, node: fx.Node) -> Feat | None:
        name = str(node.target)
        module = self.gm.get_submodule(name)
        kind = type(module).__name__
        x = self._feat(node.args[0]) if node.args else None
        in_shape = T.shape_of(node.args[0]) if node.args else None
        if kind in T.ELEMENTWISE_MODULES or (kind == "PReLU" and module.num_parameters == 1):
            return x
        if kind in T.SPATIAL_MODULES:
            if x is not None and in_shape and x.dim >= len(in_shape) - T.SPATIAL_MODULES[kind]:
                self.spaces.pin(x.space, f"pooled over its channel axis by {name!r}")
                return None
            return x
        if kind == "Flatten":
            return self._reshape(node, x)
        if kind in ("Softmax", "LogSoftmax"):
            dim = module.dim
            return self._reduce(node, x, keep_shape=True, dim=dim if isinstance(dim, int) else None)
        if any(fnmatch.fnmatchcase(name, p) for p in self.opaque):
            self._pin_all(node.args, f"read by opaque module {name!r}")
            return None
        handler = handler_for(module)
        problem = handler.check(module) if handler and handler.check else None
        if handler is None or problem:
            raise UnsupportedLayerError(
                f"layer {name!r} ({kind}) cannot be cut: "
                f"{problem or 'structural pruning has no handler for ' + kind}. Pass "
                f"opaque=[{name!r}] to keep its inputs and outputs whole, or register a "
                f"handler (supported: {', '.join(handlers.names())})"
            )
        ndim = len(in_shape) if in_shape else 2
        axis = handler.axis(module, ndim)
        if "feature" in handler.slices:
            return self._feature(name, module, x, axis, handler.size(module, "feature"))
        if x is not None:
            if x.dim == axis and x.repeat * self.spaces.size[self.spaces.find(x.space)] == (
                handler.size(module, "in")
            ):
                space = self._space_for(name, "in", 0, x.space)
                self.spaces.add(space, Member(name, "in", x.repeat))
            else:
                self.spaces.pin(x.space, f"read along another axis by {name!r}")
        out = self._space_for(name, "out", handler.size(module, "out"), None)
        self.spaces.add(out, Member(name, "out"))
        out_shape = T.shape_of(node)
        return Feat(out, handler.axis(module, len(out_shape) if out_shape else ndim))

    def _feature(
        self, name: str, module: nn.Module, x: Feat | None, axis: int, size: int
    ) -> Feat | None:
        if x is None:
            return None
        if x.dim != axis or x.repeat != 1:
            self.spaces.pin(x.space, f"normalised along another axis by {name!r}")
            return x
        space = self._space_for(name, "feature", size, x.space)
        self.spaces.add(space, Member(name, "feature"))
        return x

    def _binary(self, node: fx.Node, division: bool) -> Feat | None:
        """x+y, x*y, ...: aligned channel sets join; a broadcast size-1 side is left out."""
        args = list(node.args)
        a = args[0] if args else node.kwargs.get("input")
        b = args[1] if len(args) > 1 else node.kwargs.get("other")
        fa, fb = self._feat(a), self._feat(b)
        out_shape = T.shape_of(node)
        if fa is None and fb is None:
            return None
        if out_shape is None:
            self._pin_all((a, b), "used by a non-tensor operation")
            return None
        n = len(out_shape)
        feats = []
        for operand, f in ((a, fa), (b, fb)):
            shape = T.shape_of(operand)
            if f is not None and shape is not None:
                feats.append(Feat(f.space, f.dim + n - len(shape), f.repeat))
        main = max(feats, key=self._width)
        for operand, f in ((a, fa), (b, fb)):
            if f is None and self._plain_width(operand, main.dim, n) > 1:
                self._pin_all((a, b), "combined with a per-channel constant tensor")
                return None
        for f in feats:
            if f is main:
                continue
            if (
                f.dim == main.dim
                and f.repeat == main.repeat
                and self._width(f) == self._width(main)
            ):
                self.spaces.union(main.space, f.space)
            elif self._width(f) == 1:
                self.spaces.pin(f.space, "broadcast against wider channels")
            else:
                self._pin_all((a, b), "combined with a misaligned tensor")
                return None
        if division and fb is not None:
            self.spaces.pin(fb.space, "used as a divisor")
        return main

    def _width(self, f: Feat) -> int:
        return self.spaces.size[self.spaces.find(f.space)] * f.repeat

    @staticmethod
    def _plain_width(operand: object, dim: int, n: int) -> int:
        shape = T.shape_of(operand) or ()
        i = dim - (n - len(shape))
        return shape[i] if 0 <= i < len(shape) else 1

    def _reshape(self, node: fx.Node, x: Feat | None) -> Feat | None:
        if x is None:
            return None
        src, dst = T.shape_of(node.args[0]), T.shape_of(node)
        if src is None or dst is None:
            self.spaces.pin(x.space, "reshaped into a non-tensor")
            return None
        prefix = _prod(src[: x.dim])
        for d in range(len(dst)):
            if _prod(dst[:d]) == prefix and dst[d] != 1:
                for k in range(x.dim + 1, len(src) + 1):
                    if dst[d] == _prod(src[x.dim : k]):
                        return Feat(x.space, d, x.repeat * _prod(src[x.dim + 1 : k]))
                break
        self.spaces.pin(x.space, f"reshaped from {src} to {dst}")
        return None

    def _reduce(
        self, node: fx.Node, x: Feat | None, keep_shape: bool, dim: int | None = None
    ) -> Feat | None:
        if x is None:
            return None
        src = T.shape_of(node.args[0]) or ()
        dims = [dim % len(src)] if dim is not None else T.reduced_dims(node, len(src))
        if dims is None or x.dim in dims:
            self.spaces.pin(x.space, f"reduced over its channels by {node.target!r}")
            return None
        if keep_shape or node.kwargs.get("keepdim") or (len(node.args) > 2 and node.args[2]):
            return x
        return Feat(x.space, x.dim - sum(d < x.dim for d in dims), x.repeat)


def _prod(values: Sequence[int]) -> int:
    out = 1
    for v in values:
        out *= v
    return out
