"""End to end on trained agents: state-space and action-space pruning keep CartPole solved."""

from __future__ import annotations

import pytest

from prunerl.rl.callbacks import CallbackList
from prunerl.rl.evaluate import evaluate_policy
from prunerl.rl.ppo import PPO, PPOConfig
from prunerl.spaces import InputGroupLasso, prune_actions, prune_observations, reduce_agent

from .helpers import StopWhenSolved

REAL = {0, 1, 2, 3}  # CartPole's own features come first; 16 distractors follow


def trained_ppo(env_id: str, seed: int, lasso: float | None = None) -> PPO:
    """PPO with CartPole's tuned settings, stopped once solved; optional input group lasso."""
    agent = PPO(env_id, PPOConfig.for_env("CartPole-v1"), seed=seed)
    callbacks = [StopWhenSolved(), *([InputGroupLasso(lasso)] if lasso else [])]
    agent.learn(100_000, CallbackList(callbacks))
    return agent


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_state_pruning_drops_distractors_and_keeps_cartpole_solved(seed: int) -> None:
    agent = trained_ppo("prunerl/CartPoleDistractors-v0", seed, lasso=0.01)
    result = prune_observations(agent, "permutation", tolerance=0.02, episodes=10)
    assert result.baseline_return is not None and result.baseline_return >= 490
    distractors_kept = set(result.keep) - REAL
    assert len(distractors_kept) <= 1, result.keep  # >= 90% of the 16 distractors dropped
    small = reduce_agent(agent, result)
    assert small.observation_space.shape == (len(result.keep),)
    returns = evaluate_policy(
        small.predict, small.env_id, 20, seed=20_000, env_kwargs=small.env_kwargs
    )
    assert returns.mean() >= 475, (result.keep, returns)


@pytest.mark.slow
def test_action_elimination_finds_a_smaller_action_set() -> None:
    agent = trained_ppo("prunerl/CartPoleExtraActions-v0", 0)
    result = prune_actions(agent, "usage", tolerance=0.02, episodes=10)
    names = {result.names[i].split(":")[1] for i in result.keep}
    assert len(result.keep) <= 3 and {"left", "right"} <= names, result.names
    small = reduce_agent(agent, actions=result)
    assert small.action_space.n == len(result.keep)
    returns = evaluate_policy(
        small.predict, small.env_id, 20, seed=20_000, env_kwargs=small.env_kwargs
    )
    assert returns.mean() >= 475, (result.keep, returns)
