"""Training flushes denormal floats to zero by default (a speed setting that must not change
what is learned beyond rounding), and the opt-out keeps them."""

from __future__ import annotations

import pytest
import torch

from prunerl.rl import DQN, PPO, DQNConfig


def flushed() -> bool:
    """Whether torch currently flushes denormals (1e-39 is a float32 denormal)."""
    return bool((torch.tensor([1e-39]) * 1.0).item() == 0.0)


@pytest.mark.parametrize("flush", [True, False])
def test_learning_sets_the_flag_the_agent_asks_for(flush: bool) -> None:
    torch.set_flush_denormal(not flush)
    agent = DQN("CartPole-v1", DQNConfig(learning_starts=50, net_arch=(16,)), flush_denormal=flush)
    agent.learn(100)
    assert flushed() is flush
    torch.set_flush_denormal(False)


def weights(flush: bool) -> dict[str, torch.Tensor]:
    agent = PPO("CartPole-v1", seed=3, flush_denormal=flush)
    agent.learn(4096)
    torch.set_flush_denormal(False)
    return {k: v.clone() for k, v in agent.networks["actor"].state_dict().items()}


def test_flushing_changes_learning_only_by_rounding() -> None:
    """Denormals are below 1.2e-38: flushing them can only move a weight by about that much
    per step, so two runs from one seed stay equal to float rounding."""
    with_flush, without = weights(True), weights(False)
    for name, value in with_flush.items():
        torch.testing.assert_close(value, without[name], rtol=1e-5, atol=1e-6)
