"""State-space pruning: score every observation feature for a trained agent and decide which
the policy keeps (top-k, a score threshold, or while return stays within a tolerance).

A dropped feature is held at its mean on the agent's own observations, which is exactly what
the cut network computes (see :mod:`prunerl.spaces.surgery`), so the return measured here is
the return of the deployed agent before fine-tuning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from prunerl.rl.base import Agent
from prunerl.spaces.decision import decide, rule_of
from prunerl.spaces.feature_importance import FeatureContext, score_features
from prunerl.spaces.masks import dropped
from prunerl.spaces.policy import env_names, network_input
from prunerl.spaces.results import ObservationPruning
from prunerl.spaces.rollout import EpisodeRunner
from prunerl.spaces.wrappers import observation_axis

CHEAP_MEASURES = ("weight_norm", "saliency")


def fix_features(
    keep: np.ndarray, fill: np.ndarray, axis: int
) -> Callable[[np.ndarray], np.ndarray]:
    """Observation transform holding every feature not in ``keep`` at its ``fill`` value."""
    drop = dropped(np.asarray(keep), len(fill))

    def transform(batch: np.ndarray) -> np.ndarray:
        out = batch.copy()
        index: list[Any] = [slice(None)] * out.ndim
        index[axis + 1] = drop
        values = fill[drop].reshape([-1, *([1] * (out.ndim - axis - 2))])
        out[tuple(index)] = values
        return out

    return transform


def prune_observations(
    agent: Agent,
    method: str = "permutation",
    *,
    k: int | None = None,
    threshold: float | None = None,
    tolerance: float | None = None,
    measures: Sequence[str] = CHEAP_MEASURES,
    episodes: int = 10,
    seed: int = 10_000,
    n_reference: int = 4096,
    axis: int | None = None,
) -> ObservationPruning:
    """Score the agent's observation features by ``method`` and decide which to keep.

    Rules: ``k`` keeps the k best; ``threshold`` keeps scores >= that fraction of the best;
    ``tolerance`` (the default, 0.05) drops features from the least important up while the
    mean return over ``episodes`` stays >= ``baseline - tolerance * |baseline|``. Every measure
    in ``measures`` is scored too, for comparison (``prunerl explain`` shows them).
    """
    rule_of(k, threshold, tolerance)  # conflicting rules fail before any episode is played
    space = agent.observation_space
    ax = observation_axis(space, axis)
    n = int((space.shape or ())[ax])
    runner = EpisodeRunner(agent.env_id, agent.env_kwargs, episodes, seed)
    try:
        base = runner.run(agent.predict, record=True)
        assert base.observations is not None
        rng = np.random.default_rng(seed)
        ref = base.observations
        if len(ref) > n_reference:
            ref = ref[rng.choice(len(ref), n_reference, replace=False)]
        moved = np.moveaxis(ref.astype(np.float64), ax + 1, 0).reshape(n, -1)
        fill = moved.mean(axis=1)
        ctx = FeatureContext(
            network=agent.policy_network(),
            inputs=network_input(agent, ref),
            n_features=n,
            axis=ax,
            policy=agent.predict,
            runner=runner,
            reference_obs=ref,
            baseline=base.mean,
            seed=seed,
        )
        scores = score_features(ctx, tuple(dict.fromkeys((method, *measures))))

        def evaluate(keep: np.ndarray) -> float:
            return runner.run(agent.predict, fix_features(keep, fill, ax)).mean

        keep, trials, rule = decide(scores[method], evaluate, base.mean, k, threshold, tolerance)
        result = ObservationPruning(
            n=n,
            keep=keep.tolist(),
            method=method,
            rule=rule,
            scores={name: s.tolist() for name, s in scores.items()},
            names=env_names(agent, "feature_names", n),
            baseline_return=base.mean,
            pruned_return=evaluate(keep),
            fill=fill.tolist(),
            axis=axis,
        )
        result.add_trials(trials)
        return result
    finally:
        runner.close()
