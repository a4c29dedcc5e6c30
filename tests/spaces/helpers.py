"""Helpers: a hand-built CartPole controller inside a real DQN agent (no training)."""

from __future__ import annotations

import numpy as np
import torch

from prunerl.rl.base import Agent
from prunerl.rl.callbacks import Callback
from prunerl.rl.dqn import DQN, DQNConfig
from prunerl.rl.evaluate import evaluate_policy

torch.set_num_threads(1)

# Q(right) - Q(left) = 2 * (pole_angle + 0.5 * pole_angular_velocity) balances CartPole for 500
# steps; both features are needed (either alone falls), every other input is ignored.
CONTROLLER = {2: 1.0, 3: 0.5}


def controller_agent(env_id: str = "prunerl/CartPoleDistractors-v0", **env_kwargs: object) -> DQN:
    """A DQN whose single Linear Q-layer is the hand-built controller above."""
    agent = DQN(env_id, DQNConfig(net_arch=(), buffer_size=64), env_kwargs=env_kwargs or None)
    q = agent.networks["q"]
    layer = q[0]
    assert isinstance(layer, torch.nn.Linear)
    w = np.zeros(layer.in_features, dtype=np.float32)
    for i, v in CONTROLLER.items():
        w[i] = v
    with torch.no_grad():
        layer.weight.zero_()
        layer.weight[:2] = torch.as_tensor(np.stack([-w, w]))
        layer.bias.zero_()
    agent.update_target()
    return agent


def sign_match_agent(lean: float = 0.1, seed: int = 0, **env_kwargs: object) -> DQN:
    """A DQN whose single Linear Q-layer plays ``prunerl/SignMatch-v0`` by hand: it reads each
    signal's sign (so it needs every signal) and, like a trained agent, leans a little on every
    distractor (weights ~ N(0, ``lean``), drawn from ``seed``)."""
    agent = DQN(
        "prunerl/SignMatch-v0", DQNConfig(net_arch=(), buffer_size=64), env_kwargs=env_kwargs
    )
    layer = agent.networks["q"][0]
    assert isinstance(layer, torch.nn.Linear)
    n_real = int(np.log2(layer.out_features))
    bits = (np.arange(layer.out_features)[:, None] >> np.arange(n_real)) & 1
    lean_weights = np.random.default_rng(seed).normal(
        0.0, lean, (layer.out_features, layer.in_features - n_real)
    )
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(np.hstack([2.0 * bits - 1.0, lean_weights])))
        layer.bias.zero_()
    agent.update_target()
    return agent


class StopWhenSolved(Callback):
    """Stop training once a 10-episode greedy evaluation reaches ``target`` (checked every 8k)."""

    def __init__(self, target: float = 495.0, every: int = 8192, start: int = 16384) -> None:
        self.target, self.every, self.start = target, every, start

    def on_step(self, agent: Agent) -> bool:
        t = agent.num_timesteps
        if t < self.start or t % self.every:
            return True
        returns = evaluate_policy(
            agent.predict, agent.env_id, 10, seed=500, env_kwargs=agent.env_kwargs
        )
        return bool(returns.mean() < self.target)
