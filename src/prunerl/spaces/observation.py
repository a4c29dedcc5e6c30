"""State-space pruning: score every observation feature for a trained agent and decide which
the policy keeps (top-k, a score threshold, or while return stays within a tolerance).

A dropped feature is held at its mean on the agent's own observations, which is exactly what
the cut network computes (see :mod:`prunerl.spaces.surgery`), so the return measured here is
the return of the deployed agent before fine-tuning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from prunerl.rl.base import Agent
from prunerl.spaces.decision import allowed_drop, decide, rule_of, stepwise_judge
from prunerl.spaces.feature_importance import FeatureContext, score_features
from prunerl.spaces.masks import dropped
from prunerl.spaces.paired import NEGLIGIBLE, PairedEvidence, Play
from prunerl.spaces.policy import env_names, network_input
from prunerl.spaces.results import ObservationPruning
from prunerl.spaces.rollout import EpisodeRunner
from prunerl.spaces.wrappers import observation_axis

CHEAP_MEASURES = ("weight_norm", "saliency")


def fix_features(
    keep: np.ndarray, fill: np.ndarray, axis: int
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Observation transform holding every feature not in ``keep`` at its ``fill`` value
    (the same for every episode; the episode numbers are ignored)."""
    drop = dropped(np.asarray(keep), len(fill))

    def transform(batch: np.ndarray, episodes: np.ndarray | None = None) -> np.ndarray:
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
    max_episodes: int = 160,
    confidence: float = 0.95,
    seed: int = 10_000,
    n_reference: int = 4096,
    axis: int | None = None,
) -> ObservationPruning:
    """Score the agent's observation features by ``method`` and decide which to keep.

    Rules: ``k`` keeps the k best; ``threshold`` keeps scores >= that fraction of the best;
    ``tolerance`` (the default, 0.05) allows a mean return drop of ``tolerance * |baseline|``
    and removes features only where paired episodes show, at ``confidence``, that the drop
    stays within it: with ``permutation`` a feature whose importance CI is clearly above the
    allowed drop is kept, one clearly below is a candidate, and an unclear one gets more
    episodes (doubling from ``episodes`` up to ``max_episodes``), then is kept if still
    unclear; the candidates are then removed by backward elimination, judged the same way.
    Every measure in ``measures`` is scored too, for comparison (``prunerl explain`` shows
    them).
    """
    rule = rule_of(k, threshold, tolerance)  # conflicting rules fail before any episode
    space = agent.observation_space
    ax = observation_axis(space, axis)
    n = int((space.shape or ())[ax])
    runner = EpisodeRunner(agent.env_id, agent.env_kwargs, episodes, seed)
    try:
        base = runner.run(agent.predict, record=True)
        assert base.observations is not None
        allowed = None
        if rule == "tolerance":
            allowed = allowed_drop(base.mean, 0.05 if tolerance is None else tolerance)
        evidence = PairedEvidence(
            runner, agent.predict, base.returns, allowed, max_episodes, confidence
        )
        replays = evidence.replays()
        if not replays:
            warn_no_replay(agent.env_id)
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
            evidence=evidence,
            reference_obs=ref,
            seed=seed,
        )
        scores = score_features(ctx, tuple(dict.fromkeys((method, *measures))))
        drops = ctx.drops.get(method)
        candidates = None
        if drops is not None and allowed is not None:
            candidates = np.array([j for j, d in enumerate(drops) if d.verdict == NEGLIGIBLE])

        def play_of(keep: np.ndarray) -> Play:
            return evidence.play(fix_features(keep, fill, ax))

        judge = stepwise_judge(evidence, play_of, n)
        keep, trials = decide(scores[method], judge, k, threshold, candidates)
        result = ObservationPruning(
            n=n,
            keep=keep.tolist(),
            method=method,
            rule=rule,
            scores={name: s.tolist() for name, s in scores.items()},
            names=env_names(agent, "feature_names", n),
            baseline_return=base.mean,
            pruned_return=runner.run(agent.predict, fix_features(keep, fill, ax)).mean,
            fill=fill.tolist(),
            axis=axis,
            allowed_drop=allowed,
            confidence=confidence,
            replays=replays,
        )
        result.add_trials(trials)
        result.add_drops(ctx.drops)
        return result
    finally:
        runner.close()


def warn_no_replay(env_id: str) -> None:
    """Say that episodes of ``env_id`` do not replay, so no-op changes will not score 0."""
    warnings.warn(
        f"episodes of {env_id} do not replay exactly with the same seeds: the env draws random "
        "numbers outside reset(seed=...), numpy's and torch's global generators (e.g. Python's "
        "random, or a generator seeded once); scores then carry that noise and decisions need "
        "more episodes. Draw every random number from the env's self.np_random to fix it",
        stacklevel=3,
    )
