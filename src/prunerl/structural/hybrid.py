"""Hybrid, multi-scale pruning: blocks, then neurons, then weights, in one config.

Each level is optional; the result reports what every level contributed (parameters, nonzeros,
FLOPs, bytes), e.g. "cut 50% of neurons, then 80% of the remaining weights with the core
Pruner".
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from prunerl.core.api import prune
from prunerl.core.cost import Cost, measure
from prunerl.core.pruner import Pruner
from prunerl.structural.api import make_plan
from prunerl.structural.blocks import LayerRatio, prune_blocks
from prunerl.structural.optim import carry_optimizer
from prunerl.structural.surgery import cut
from prunerl.structural.trace import default_example


@dataclass
class HybridConfig:
    """Which levels to prune and how much; a level left at None is skipped."""

    block_alpha: float | None = None  # drop residual blocks with |θ|/|L| <= alpha
    block_threshold: float | None = None  # τ for important weights (None: global quantile)
    block_quantile: float = 0.5
    neuron_sparsity: float | dict[str, float] | None = None  # share of neurons cut per group
    neuron_importance: str = "l1"
    weight_sparsity: float | None = None  # share of the remaining weights masked (core Pruner)
    weight_method: str = "magnitude"
    weight_scope: str = "layer"

    def __post_init__(self) -> None:
        levels = (self.block_alpha, self.neuron_sparsity, self.weight_sparsity)
        if all(v is None for v in levels):
            raise ValueError(
                "HybridConfig prunes nothing: set at least one of block_alpha, "
                "neuron_sparsity or weight_sparsity"
            )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> HybridConfig:
        """A config from a dict (e.g. a YAML section); unknown keys are an error."""
        known = set(cls.__dataclass_fields__)
        extra = sorted(set(values) - known)
        if extra:
            raise ValueError(f"unknown hybrid keys {extra}; known: {sorted(known)}")
        return cls(**values)


@dataclass(frozen=True)
class Level:
    """The network's cost after one level, and what that level changed."""

    name: str
    cost: Cost
    detail: str


@dataclass
class HybridResult:
    """The pruned network, the core pruner holding weight masks (if any), and per-level costs."""

    model: nn.Module
    pruner: Pruner | None
    levels: list[Level] = field(default_factory=list)
    block_ratios: list[LayerRatio] = field(default_factory=list)

    def contributions(self) -> dict[str, float]:
        """Share of the dense network's parameters each level removed (nonzeros)."""
        dense = self.levels[0].cost.params_nonzero
        out, prev = {}, dense
        for lvl in self.levels[1:]:
            out[lvl.name] = (prev - lvl.cost.params_nonzero) / dense
            prev = lvl.cost.params_nonzero
        return out

    def table(self) -> str:
        """A plain-text table: nonzero parameters, FLOPs and bytes after each level."""
        head = f"{'level':<10}{'params':>10}{'nonzero':>10}{'flops':>12}{'bytes':>10}  detail"
        rows = [head]
        for lvl in self.levels:
            c = lvl.cost
            rows.append(
                f"{lvl.name:<10}{c.params_total:>10}{c.params_nonzero:>10}"
                f"{c.flops_sparse:>12}{c.bytes_sparse:>10}  {lvl.detail}"
            )
        return "\n".join(rows)


def hybrid_prune(
    model: nn.Module,
    config: HybridConfig,
    *,
    example: torch.Tensor | None = None,
    observations: torch.Tensor | None = None,
    optimizers: Sequence[torch.optim.Optimizer] = (),
) -> HybridResult:
    """Apply the configured levels in order (blocks, neurons, weights) to a copy of ``model``."""
    if example is None:
        example = observations if observations is not None else default_example(model)
    probe = example[:1]
    levels = [Level("dense", measure(model, probe), "")]
    result = HybridResult(model, None, levels)
    current = model
    if config.block_alpha is not None:
        current, ratios = prune_blocks(
            current,
            config.block_alpha,
            threshold=config.block_threshold,
            quantile=config.block_quantile,
            optimizers=optimizers,
        )
        gone = [r.name for r in ratios if r.removable and not r.kept]
        result.block_ratios = ratios
        levels.append(Level("blocks", measure(current, probe), f"removed {gone or 'none'}"))
    if config.neuron_sparsity is not None:
        plan = make_plan(
            current,
            config.neuron_sparsity,
            config.neuron_importance,
            example=example,
            observations=observations,
        )
        current = cut(current, plan, optimizers)
        detail = f"removed {plan.fraction_removed():.0%} of neurons/channels"
        levels.append(Level("neurons", measure(current, probe), detail))
    if config.weight_sparsity is not None:
        if current is model:  # prune a copy, as the other levels do
            names = {id(p): n for n, p in model.named_parameters()}
            current = copy.deepcopy(model)
            new_params = dict(current.named_parameters())
            for opt in optimizers:
                carry_optimizer(opt, dict(model.named_parameters()), names, new_params, {})
        result.pruner = prune(
            current, config.weight_sparsity, config.weight_method, config.weight_scope
        )
        for opt in optimizers:
            result.pruner.attach_optimizer(opt)
        detail = f"masked {result.pruner.sparsity():.0%} of remaining weights"
        levels.append(Level("weights", measure(current, probe), detail))
    result.model = current
    return result
