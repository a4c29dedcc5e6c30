"""Divergence guards of the agents' training loops: what the env gives and what an update makes.

A NaN or Inf observation or reward, loss or weight stops training with one line that names the
source and the env step (:class:`~prunerl.core.finite.NonFiniteError`), before it can reach the
replay buffer, the weights or a checkpoint. The checks cost one sum per env step, a look at the
round's losses, and one sum per parameter tensor every ``WEIGHT_CHECK_EVERY`` env steps
(``benchmarks/bench_guard_overhead.py``); a checkpoint refuses non-finite weights anyway.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, SupportsFloat

import numpy as np
import torch
from torch import nn

from prunerl.core.finite import all_finite, describe_non_finite, first_non_finite

ENV_FIX = "check the environment or wrap it (e.g. gymnasium.wrappers.TransformObservation)"
#: env steps between checks of every weight; the losses are checked after every round of updates
#: (a NaN weight makes the next loss NaN), so this only bounds how late a silent one is found
WEIGHT_CHECK_EVERY = 1000
UPDATE_FIX = (
    "lower the learning rate, clip gradients (max_grad_norm) or normalise observations and "
    "rewards (normalize_obs)"
)


SMALL = 64  # arrays up to this size are summed in Python: ~0.2 us, a numpy reduction ~1 us


def _sum(values: Any) -> float:
    """The sum of a number or an array (a NaN or Inf anywhere makes it non-finite)."""
    if isinstance(values, np.ndarray):
        return float(sum(values.ravel().tolist()) if values.size <= SMALL else values.sum())
    return float(values) if isinstance(values, int | float) else float(np.sum(values))


def transition_problem(obs: np.ndarray, reward: SupportsFloat | np.ndarray) -> str | None:
    """None when the observation(s) and reward(s) of one env step are finite (one sum: the fast
    path); else ``"observation[1] is NaN"`` or ``"reward is +Inf"`` (``[env, i]``: vector envs)."""
    try:
        if math.isfinite(_sum(obs) + _sum(reward)):
            return None
    except (TypeError, ValueError):  # a non-numeric observation: nothing to check here
        return None
    values: object
    for what, values in (("observation", obs), ("reward", reward)):
        found = describe_non_finite(np.asarray(values))
        if found is not None:
            return f"{what}{found}"
    return None  # the sum overflowed, every entry is finite


def update_problem(
    networks: Mapping[str, nn.Module],
    metrics: Mapping[str, float],
    extra: Mapping[str, torch.Tensor],
    weights: bool = True,
) -> str | None:
    """None when the round's metrics (losses) and, if ``weights``, every weight are finite;
    else what is not, e.g. ``"loss is NaN"`` or ``"weight q.0.weight[3, 1] is NaN"``."""
    bad_metric = next((k for k, v in metrics.items() if not math.isfinite(v)), None)
    if bad_metric is None and not weights:
        return None
    tensors = [p for module in networks.values() for p in module.parameters()]
    if bad_metric is None and all_finite([*tensors, *extra.values()]):
        return None
    params: dict[str, torch.Tensor] = {
        f"{net}.{name}": p
        for net, module in networks.items()
        for name, p in module.named_parameters()
    }
    located = first_non_finite({**params, **extra})
    what = None
    if located is not None:
        name, found = located
        grad = {**params, **extra}[name].grad
        also = " (its gradient too)" if grad is not None and not all_finite([grad]) else ""
        what = f"weight {name}{found}{also}"
    if bad_metric is not None:
        loss = f"{bad_metric} is {_kind(metrics[bad_metric])}"
        what = loss if what is None else f"{loss} and {what}"
    return what  # None: a sum overflowed, every entry is finite


def _kind(value: float) -> str:
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
