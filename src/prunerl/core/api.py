"""One-liners: ``prunerl.prune(model, sparsity=0.9)`` and ``prunerl.summary(model)``."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from prunerl.core.config import PruningConfig
from prunerl.core.pruner import Pruner


def prune(
    model: nn.Module,
    sparsity: float = 0.9,
    method: str = "magnitude",
    scope: str = "layer",
    **options: Any,
) -> Pruner:
    """Prune ``model`` once, now, and return the pruner that holds its masks.

    ``method`` is a method or criterion name (``magnitude``, ``random``, ``threshold``,
    ``gradient``, ``taylor``, …); gradient criteria need ``pruner.observe_gradients()`` data,
    so for them build a :class:`Pruner` and call ``update_masks`` after a few backward passes.
    """
    config = PruningConfig(method=method, sparsity=sparsity, scope=scope, **options)
    pruner = Pruner(model, config)
    final = max(s.end for s in pruner.schedules)  # each schedule's target is reached by its end
    if not config.method_class().sparse_from_start:
        pruner.update_masks(step=final)
    pruner.last_step = final  # no update point is left: later step() calls only enforce masks
    return pruner


def summary(model: nn.Module) -> str:
    """A per-layer table of parameter count, nonzeros and sparsity (weights of Linear/Conv)."""
    rows = [("layer", "shape", "params", "nonzero", "sparsity")]
    total = nonzero = 0
    for name, p in model.named_parameters():
        n, nz = p.numel(), int(torch.count_nonzero(p.detach()))
        total, nonzero = total + n, nonzero + nz
        rows.append((name, "x".join(map(str, p.shape)), str(n), str(nz), f"{1 - nz / n:.1%}"))
    rows.append(("total", "", str(total), str(nonzero), f"{1 - nonzero / max(total, 1):.1%}"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells)

    lines = [fmt(r) for r in rows]
    rule = "-" * len(lines[0])
    lines.insert(1, rule)
    lines.insert(len(lines) - 1, rule)
    return "\n".join(lines)
