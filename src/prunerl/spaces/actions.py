"""Action-space pruning (elimination): find the actions a trained agent does not need.

Actions are scored (:mod:`prunerl.spaces.action_importance`), then kept by top-k, a score
threshold, or backward elimination while return stays within a tolerance. A removed action is
one the greedy policy may no longer choose, which is what the cut output layer computes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from prunerl.rl.base import Agent
from prunerl.spaces.action_importance import ActionContext, score_actions
from prunerl.spaces.decision import allowed_drop, decide, rule_of, stepwise_judge
from prunerl.spaces.paired import PairedEvidence, Play
from prunerl.spaces.policy import (
    discrete_actions,
    env_names,
    policy_outputs,
    restricted_greedy,
)
from prunerl.spaces.results import ActionPruning
from prunerl.spaces.rollout import EpisodeRunner

CHEAP_ACTION_MEASURES = ("usage", "margin")


def prune_actions(
    agent: Agent,
    method: str = "usage",
    *,
    k: int | None = None,
    threshold: float | None = None,
    tolerance: float | None = None,
    measures: Sequence[str] = CHEAP_ACTION_MEASURES,
    episodes: int = 10,
    max_episodes: int = 160,
    confidence: float = 0.95,
    seed: int = 10_000,
) -> ActionPruning:
    """Score the agent's actions by ``method`` and decide which to keep.

    Rules as in :func:`prunerl.spaces.prune_observations`: ``k``, ``threshold`` (fraction of the
    best score) or ``tolerance`` (default 0.05: drop the least important actions while paired
    episodes show the greedy return clearly stays within ``tolerance * |baseline|`` of the
    baseline, with more episodes, up to ``max_episodes``, while that is unclear).
    """
    rule = rule_of(k, threshold, tolerance)  # conflicting rules fail before any episode
    n = discrete_actions(agent)
    runner = EpisodeRunner(agent.env_id, agent.env_kwargs, episodes, seed)
    try:
        greedy = restricted_greedy(agent, np.arange(n))
        base = runner.run(greedy, record=True)
        assert base.observations is not None and base.actions is not None
        allowed = None
        if rule == "tolerance":
            allowed = allowed_drop(base.mean, 0.05 if tolerance is None else tolerance)
        evidence = PairedEvidence(runner, greedy, base.returns, allowed, max_episodes, confidence)
        ctx = ActionContext(
            outputs=policy_outputs(agent, base.observations),
            actions=base.actions,
            n_actions=n,
            agent=agent,
            evidence=evidence,
        )
        scores = score_actions(ctx, tuple(dict.fromkeys((method, *measures))))

        def play_of(keep: np.ndarray) -> Play:
            return evidence.play(None, restricted_greedy(agent, keep))

        keep, trials = decide(scores[method], stepwise_judge(evidence, play_of, n), k, threshold)
        result = ActionPruning(
            n=n,
            keep=keep.tolist(),
            method=method,
            rule=rule,
            scores={name: s.tolist() for name, s in scores.items()},
            names=[f"{i}:{x}" for i, x in enumerate(env_names(agent, "action_names", n))],
            baseline_return=base.mean,
            pruned_return=runner.run(restricted_greedy(agent, keep)).mean,
            allowed_drop=allowed,
            confidence=confidence,
        )
        result.add_trials(trials)
        result.add_drops(ctx.drops)
        return result
    finally:
        runner.close()
