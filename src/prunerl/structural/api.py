"""One-liners: plan a structural cut from importance scores, or plan and cut at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from prunerl.structural.groups import Group, find_groups
from prunerl.structural.importance import Importance, build_importance
from prunerl.structural.plan import Plan, select
from prunerl.structural.surgery import cut
from prunerl.structural.trace import default_example


def prunable_groups(
    model: nn.Module, example: torch.Tensor | None = None, opaque: Sequence[str] = ()
) -> list[Group]:
    """The groups of ``model`` that may shrink (network inputs/outputs and pinned ones left out)."""
    return [g for g in find_groups(model, example, opaque=opaque) if g.prunable]


def make_plan(
    model: nn.Module,
    sparsity: float | Mapping[str, float],
    importance: str | Importance = "l1",
    *,
    example: torch.Tensor | None = None,
    observations: torch.Tensor | None = None,
    opaque: Sequence[str] = (),
    importance_kwargs: Mapping[str, Any] | None = None,
) -> Plan:
    """Score every prunable group's channels and keep the best ``1 - sparsity`` of each.

    ``sparsity`` is the share of neurons/channels removed per group, or a dict of glob patterns
    over group names (producing layers, e.g. ``"trunk.*"``) to shares. ``observations`` (a
    batch) feed the activation-based importances and serve as the tracing example.
    """
    if example is None:
        example = observations if observations is not None else default_example(model)
    groups = prunable_groups(model, example, opaque)
    scorer = build_importance(importance, **dict(importance_kwargs or {}))
    scores = scorer.scores(model, groups, observations)
    return select(groups, scores, sparsity, example, opaque)


def prune_neurons(
    model: nn.Module,
    sparsity: float | Mapping[str, float],
    importance: str | Importance = "l1",
    *,
    example: torch.Tensor | None = None,
    observations: torch.Tensor | None = None,
    optimizers: Sequence[torch.optim.Optimizer] = (),
    opaque: Sequence[str] = (),
) -> nn.Module:
    """Return a physically smaller copy of ``model`` without its least important neurons."""
    plan = make_plan(
        model, sparsity, importance, example=example, observations=observations, opaque=opaque
    )
    return cut(model, plan, optimizers)
