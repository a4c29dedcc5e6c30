"""Divergence guards of the agents' training loops: what the env gives and what an update makes.

A NaN or Inf observation or reward, loss or weight stops training with one line that names the
source and the env step (:class:`~prunerl.core.finite.NonFiniteError`), before it can reach the
replay buffer, the weights or a checkpoint. The checks cost one sum per env step and one sum per
parameter tensor per round of updates (``benchmarks/bench_guard_overhead.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import SupportsFloat

import numpy as np
import torch
from torch import nn

from prunerl.core.finite import all_finite, describe_non_finite, first_non_finite

ENV_FIX = "check the environment or wrap it (e.g. gymnasium.wrappers.TransformObservation)"
UPDATE_FIX = (
    "lower the learning rate, clip gradients (max_grad_norm) or normalise observations and "
    "rewards (normalize_obs)"
)


def transition_problem(obs: np.ndarray, reward: SupportsFloat | np.ndarray) -> str | None:
    """None when the observation(s) and reward(s) of one env step are finite (one sum: the fast
    path); else ``"observation[1] is NaN"`` or ``"reward is +Inf"`` (``[env, i]``: vector envs)."""
    try:
        total = obs.sum() if isinstance(obs, np.ndarray) else np.sum(obs)
        total += reward.sum() if isinstance(reward, np.ndarray) else float(reward)
        if math.isfinite(total):
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
) -> str | None:
    """None when the round's metrics (losses) and every weight are finite; else what is not,
    e.g. ``"loss is NaN"`` or ``"weight q.trunk.0.weight[3, 1] is NaN (its gradient too)"``."""
    bad_metric = next((k for k, v in metrics.items() if not math.isfinite(v)), None)
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
