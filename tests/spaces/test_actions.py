from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from prunerl.rl.dqn import DQN
from prunerl.rl.evaluate import evaluate_policy
from prunerl.rl.ppo import PPO
from prunerl.spaces import prune_actions, reduce_agent
from prunerl.spaces.action_importance import ActionContext, margin_importance

from .helpers import controller_agent


@pytest.fixture
def extra_actions_agent() -> DQN:
    """The controller on CartPole with actions [L, R, L, R, L, R, noop]; copies slightly worse."""
    agent = controller_agent("prunerl/CartPoleExtraActions-v0")
    layer = agent.networks["q"][0]
    base = layer.weight.detach()[:2].clone()  # rows for left, right
    with torch.no_grad():
        layer.weight.copy_(torch.cat([base, base, base, torch.zeros(1, 4)]))
        layer.bias.copy_(torch.tensor([0.0, 0.0, -0.01, -0.01, -0.02, -0.02, 0.0]))
    agent.update_target()
    return agent


def test_usage_and_margin_find_the_two_needed_actions(extra_actions_agent: Any) -> None:
    result = prune_actions(extra_actions_agent, "usage", episodes=3)
    assert result.keep == [0, 1] and result.pruned_return == 500.0
    usage = np.asarray(result.scores["usage"])
    assert usage[2:].sum() == 0.0 and usage[:2].min() > 0.3
    margin = np.asarray(result.scores["margin"])
    assert margin[2:].max() == 0.0 and margin[:2].min() > 0.0
    assert result.names[6] == "6:noop"


def test_removal_measure_and_duplicates(extra_actions_agent: Any) -> None:
    result = prune_actions(extra_actions_agent, "removal", k=2, measures=(), episodes=2)
    drops = np.asarray(result.scores["removal"])
    assert drops[2:].max() == 0.0  # a copy or the no-op is never missed
    assert drops[:2].max() == 0.0  # ... nor is an original, since its copy takes over
    assert result.keep == [0, 1]  # ties keep the lowest indices


def test_margin_of_exact_duplicates_is_zero() -> None:
    out = torch.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 0.0, 0.0, 1.0]])
    ctx = ActionContext(outputs=out, actions=np.array([1, 0]), n_actions=4)
    np.testing.assert_allclose(margin_importance(ctx), [0.5, 0.0, 0.0, 0.0])


def test_reduced_agent_on_the_pruned_action_set(extra_actions_agent: Any) -> None:
    result = prune_actions(extra_actions_agent, "usage", k=2, episodes=2)
    small = reduce_agent(extra_actions_agent, actions=result)
    assert small.action_space.n == 2 and small.networks["q_target"][0].out_features == 2
    returns = evaluate_policy(small.predict, small.env_id, 3, seed=5, env_kwargs=small.env_kwargs)
    assert returns.min() == 500.0


def test_action_pruning_needs_discrete_actions() -> None:
    ppo = PPO("Pendulum-v1")
    with pytest.raises(ValueError, match="needs a Discrete action space"):
        prune_actions(ppo, k=1)
