"""Slow: DQN on CartPole still solves it with 75% of its hidden neurons removed while training."""

from __future__ import annotations

import pytest
import torch

from prunerl.rl import Agent, Callback, CallbackList, evaluate_policy
from prunerl.rl.dqn import DQN, DQNConfig
from prunerl.rl.structured import StructuredPruner, layer_widths

ENV = "CartPole-v1"


class StopWhenSolved(Callback):
    """After the cut, every ``every`` steps: stop once 10 greedy episodes average >= 495.

    DQN on CartPole swings between solving and forgetting, so a fixed budget would make the final
    return a coin toss; the check uses episode seeds 50_000+, never those of the final test.
    """

    def __init__(self, start: int, every: int) -> None:
        self.start, self.every = start, every
        self.solved_at: int | None = None

    def on_step(self, agent: Agent) -> bool:
        t = agent.num_timesteps
        if t < self.start or t % self.every:
            return True
        if evaluate_policy(agent.predict, ENV, episodes=10, seed=50_000).mean() >= 495:
            self.solved_at = t
            return False
        return True


@pytest.mark.slow
def test_dqn_cartpole_solves_with_75_percent_of_hidden_neurons_removed() -> None:
    torch.set_num_threads(1)
    agent = DQN(ENV, DQNConfig.for_env(ENV), seed=0)
    pruner = StructuredPruner(
        agent, sparsity=0.75, begin_step=5_000, end_step=15_000, update_every=2_000
    )
    stop = StopWhenSolved(start=15_000, every=2_500)
    agent.learn(80_000, callback=CallbackList([pruner, stop]))
    assert pruner.is_cut and pruner.cut_step == 15_000
    assert layer_widths(agent.networks["q"]) == [64, 64, 1, 2]
    assert layer_widths(agent.networks["q_target"]) == [64, 64, 1, 2]
    returns = evaluate_policy(agent.predict, ENV, episodes=20)  # seeds 10_000..10_019
    assert returns.mean() >= 475, f"final return {returns.mean():.1f} (stopped at {stop.solved_at})"
