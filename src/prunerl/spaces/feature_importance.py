"""How much the trained policy needs each observation feature (or image channel).

Three measures users can compare, all registered in ``feature_measures``:

- ``weight_norm``: L2 norm of the first layer's weights reading the feature (its input group;
  Vischer et al. 2022 and Grooten et al. 2023 find irrelevant inputs get small/no weights);
  blind to the feature's scale and to constants, it is meant for networks trained with group
  lasso on the input layer (:class:`prunerl.spaces.InputGroupLasso`);
- ``saliency``: mean |d outputs / d feature| on real observations times the feature's spread
  (gradient saliency, Simonyan et al. 2014);
- ``permutation``: drop in return when the feature is replaced by values drawn from other
  observations (permutation importance, Breiman 2001), the model-based measure. It is measured
  on the baseline's own episodes (common random numbers, :mod:`prunerl.spaces.paired`), so it
  comes with a confidence interval, and a feature the policy cannot see scores exactly 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from prunerl.registry import Registry
from prunerl.spaces.paired import Drop, PairedEvidence
from prunerl.spaces.surgery import first_layer


@dataclass
class FeatureContext:
    """What a feature measure may use; ``axis`` is the feature axis of one observation.

    A measure with an uncertainty (measured on episodes) also leaves its per-feature
    :class:`Drop` in ``drops`` under its name.
    """

    network: nn.Module
    inputs: torch.Tensor  # network inputs for reference observations, shape (batch, *obs)
    n_features: int
    axis: int = 0
    evidence: PairedEvidence | None = None  # baseline episodes and paired tests against them
    reference_obs: np.ndarray | None = None  # raw observations the shuffled values come from
    seed: int = 0
    drops: dict[str, list[Drop]] = field(default_factory=dict)


FeatureMeasure = Callable[[FeatureContext], np.ndarray]
feature_measures: Registry[FeatureMeasure] = Registry("feature measure")


def _per_feature(values: torch.Tensor, axis: int, reduce: str) -> torch.Tensor:
    """Reduce a (batch, *obs) tensor to one number per feature along ``axis`` (+1 for batch)."""
    moved = values.movedim(axis + 1, 0).reshape(values.shape[axis + 1], -1)
    return moved.std(dim=1) if reduce == "std" else moved.abs().mean(dim=1)


def feature_spread(inputs: torch.Tensor, axis: int = 0) -> np.ndarray:
    """Standard deviation of each feature (channel: over all its pixels) in network inputs."""
    return _per_feature(inputs.detach().double(), axis, "std").numpy()


@feature_measures.register("weight_norm")
def weight_norm_importance(ctx: FeatureContext) -> np.ndarray:
    """||W[:, j]|| of the first layer: the weights that read feature (or channel) j."""
    w = first_layer(ctx.network).weight.detach().double()
    per_input = w.transpose(0, 1).reshape(w.shape[1], -1).norm(dim=1)[: ctx.n_features]
    return per_input.numpy()


@feature_measures.register("saliency")
def saliency_importance(ctx: FeatureContext) -> np.ndarray:
    """Mean |d output / d feature| summed over outputs, times the feature's spread."""
    x = ctx.inputs.detach().clone().requires_grad_(True)
    out = ctx.network(x)
    out = out.reshape(out.shape[0], -1)
    total = torch.zeros(ctx.n_features, dtype=torch.float64)
    for k in range(out.shape[1]):
        (grad,) = torch.autograd.grad(out[:, k].sum(), x, retain_graph=k < out.shape[1] - 1)
        total += _per_feature(grad.double(), ctx.axis, "mean_abs")
    return total.numpy() * feature_spread(ctx.inputs, ctx.axis)


def shuffle_transform(
    reference: np.ndarray, feature: int, axis: int, seed: int
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Replace ``feature`` of each observation by that feature of a random reference one.

    Episode ``e`` draws its reference rows from its own generator (``seed, feature, e``), so
    what it sees does not depend on which other episodes run beside it or for how long.
    """
    generators: dict[int, np.random.Generator] = {}

    def transform(batch: np.ndarray, episodes: np.ndarray) -> np.ndarray:
        out = batch.copy()
        rows = np.empty(len(batch), dtype=np.int64)
        for i, e in enumerate(episodes.tolist()):
            if e not in generators:
                generators[e] = np.random.default_rng([seed, feature, e])
            rows[i] = generators[e].integers(len(reference))
        index: list[Any] = [slice(None)] * out.ndim
        index[axis + 1] = feature
        out[tuple(index)] = reference[(rows, *index[1:])]
        return out

    return transform


@feature_measures.register("permutation")
def permutation_importance(ctx: FeatureContext) -> np.ndarray:
    """Mean drop in return (paired by episode) when the feature is shuffled across real
    observations; the per-feature :class:`Drop` (CI, episodes, verdict) goes to ``ctx.drops``."""
    if ctx.evidence is None or ctx.reference_obs is None:
        raise ValueError("permutation importance needs paired evidence (an episode runner) and obs")
    evidence = ctx.evidence
    drops = [
        evidence.measure_transform(shuffle_transform(ctx.reference_obs, j, ctx.axis, ctx.seed))
        for j in range(ctx.n_features)
    ]
    ctx.drops["permutation"] = drops
    return np.array([d.mean for d in drops])


def score_features(ctx: FeatureContext, measures: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Every requested measure, by name (unknown names raise listing the valid ones)."""
    fns = {name: feature_measures.get(name) for name in measures}
    return {name: np.asarray(fn(ctx), dtype=np.float64) for name, fn in fns.items()}
