"""Layer and block pruning: keep layer L only if |θ_L| / |L| > α.

θ_L are L's *important* weights, those with |w| above a threshold τ (given, or the global
``quantile`` of |w| over all weight matrices, so ratios compare layers with one yardstick; after
unstructured pruning τ = 0 makes the ratio the layer's density), and |L| counts all its weights.
A residual block ``x + f(x)`` at or below α is replaced by the identity, which leaves a valid
network: that is why whole-layer removal applies to residual blocks (Impala CNN, residual MLP),
while plain layers are only reported.
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import fx, nn

from prunerl.structural.optim import carry_optimizer

_ADDS: frozenset[object] = frozenset({operator.add, torch.add, "add"})


@dataclass(frozen=True)
class LayerRatio:
    """One layer's or block's important-weight ratio and what was decided for it."""

    name: str
    ratio: float
    removable: bool  # a residual block (identity when removed)
    kept: bool


def find_residual_blocks(model: nn.Module) -> list[str]:
    """Submodules whose forward is ``x + f(x)`` (outermost ones), found by tracing each."""
    found: list[str] = []
    for name, sub in model.named_modules():
        if not name or not any(True for _ in sub.children()):
            continue
        if any(name.startswith(f + ".") for f in found):
            continue
        if _is_residual(sub):
            found.append(name)
    return found


def _is_residual(module: nn.Module) -> bool:
    try:
        graph = fx.symbolic_trace(module).graph
    except Exception:
        return False
    inputs = [n for n in graph.nodes if n.op == "placeholder"]
    out = next(n for n in graph.nodes if n.op == "output").args[0]
    if len(inputs) != 1 or not isinstance(out, fx.Node) or out.target not in _ADDS:
        return False
    x = inputs[0]
    a, b = out.args[0], out.args[1] if len(out.args) > 1 else None
    branch = b if a is x else a if b is x else None
    return isinstance(branch, fx.Node) and _depends_on(branch, x)


def _depends_on(node: fx.Node, source: fx.Node) -> bool:
    stack, seen = [node], set()
    while stack:
        n = stack.pop()
        if n is source:
            return True
        if n in seen:
            continue
        seen.add(n)
        stack.extend(n.all_input_nodes)
    return False


def _weights(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach() for n, p in module.named_parameters() if p.dim() >= 2]


def global_threshold(model: nn.Module, quantile: float) -> float:
    """The ``quantile`` of |w| over all weight matrices/kernels of ``model``."""
    if not 0.0 <= quantile < 1.0:
        raise ValueError(f"quantile must be in [0, 1), got {quantile}")
    flat = torch.cat([w.abs().flatten().float() for w in _weights(model)])
    k = min(flat.numel(), max(1, int(quantile * flat.numel()) + 1))
    return float(flat.kthvalue(k).values) if quantile > 0 else 0.0


def weight_ratio(module: nn.Module, threshold: float) -> float:
    """|θ| / |L|: share of ``module``'s weights whose magnitude exceeds ``threshold``."""
    ws = _weights(module)
    total = sum(w.numel() for w in ws)
    if total == 0:
        raise ValueError(f"{type(module).__name__} has no weight matrices to measure")
    return sum(int((w.abs() > threshold).sum()) for w in ws) / total


def layer_ratios(
    model: nn.Module,
    alpha: float,
    *,
    threshold: float | None = None,
    quantile: float = 0.5,
    blocks: Sequence[str] | None = None,
) -> list[LayerRatio]:
    """Ratios of every residual block and of every other Linear/Conv layer, with decisions."""
    if not 0.0 <= alpha < 1.0:
        raise ValueError(f"alpha must be in [0, 1), got {alpha} (e.g. 0.3 drops blocks <= 30%)")
    tau = global_threshold(model, quantile) if threshold is None else float(threshold)
    blocks = find_residual_blocks(model) if blocks is None else list(blocks)
    out = []
    for name in blocks:
        r = weight_ratio(model.get_submodule(name), tau)
        out.append(LayerRatio(name, r, True, r > alpha))
    for name, mod in model.named_modules():
        in_block = any(name == b or name.startswith(b + ".") for b in blocks)
        if in_block or not isinstance(mod, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            continue
        out.append(LayerRatio(name, weight_ratio(mod, tau), False, True))
    return out


def prune_blocks(
    model: nn.Module,
    alpha: float,
    *,
    threshold: float | None = None,
    quantile: float = 0.5,
    blocks: Sequence[str] | None = None,
    optimizers: Sequence[torch.optim.Optimizer] = (),
) -> tuple[nn.Module, list[LayerRatio]]:
    """A copy of ``model`` without the residual blocks whose ratio is at most ``alpha``.

    Optimizers drop the removed blocks' parameters and move to the copy's parameters.
    """
    ratios = layer_ratios(model, alpha, threshold=threshold, quantile=quantile, blocks=blocks)
    for name in blocks or ():
        if not _is_residual(model.get_submodule(name)):
            raise ValueError(
                f"{name!r} is not a residual block (forward x + f(x)): removing it would change "
                "the network's shapes; list only residual blocks in blocks="
            )
    old_names = {id(p): n for n, p in model.named_parameters()}
    old_params = dict(model.named_parameters())
    new = copy.deepcopy(model)
    for r in ratios:
        if r.removable and not r.kept:
            parent, _, child = r.name.rpartition(".")
            setattr(new.get_submodule(parent) if parent else new, child, nn.Identity())
    for opt in optimizers:
        carry_optimizer(opt, old_params, old_names, dict(new.named_parameters()), {})
    return new, ratios
