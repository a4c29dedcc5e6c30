"""Env-provided action masks in DQN: valid actions when acting and exploring, targets that
bootstrap from the next state's valid actions, ``predict(action_masks=)``, and no masks = as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from prunerl.rl import Callback
from prunerl.rl.dqn import DQN, DQNConfig
from prunerl.rl.evaluate import evaluate_policy

from .test_action_masking import (
    BAD_MASK,
    CHAIN,
    LENGTH,
    N_ACTIONS,
    chain_kwargs,
    obs_masks,
)

torch.set_num_threads(1)


def small_dqn(expose_mask: bool = True, seed: int = 0, **overrides: Any) -> DQN:
    cfg = DQNConfig(
        **{
            "net_arch": (16,),
            "learning_starts": 32,
            "batch_size": 16,
            "train_freq": 4,
            "target_update_interval": 50,
            "exploration_fraction": 0.5,
            **overrides,
        }
    )
    return DQN(CHAIN, cfg, seed=seed, env_kwargs=chain_kwargs(expose_mask))


class _CountInvalid(Callback):
    """Counts actions the chain's current cell does not allow, from the replay buffer."""

    def __init__(self) -> None:
        self.invalid = self.steps = 0

    def on_step(self, agent: Any) -> bool:
        buf = agent.buffer
        if len(buf) > self.steps:  # n_step=1: one transition per env step
            i = buf.pos - 1
            self.invalid += int(not obs_masks(buf.obs[i])[buf.actions[i]])
            self.steps = len(buf)
        return True


@pytest.mark.parametrize("n_step", [1, 3])
def test_dqn_acts_and_explores_among_valid_actions_only(n_step: int) -> None:
    agent = small_dqn(n_step=n_step, exploration_initial_eps=1.0)
    agent.learn(600, callback=_CountInvalid() if n_step == 1 else None)
    buf = agent.buffer
    rows = len(buf)
    valid = obs_masks(buf.obs[:rows])
    assert valid[np.arange(rows), buf.actions[:rows]].all()
    # every stored transition carries the valid actions of the state it bootstraps from
    assert buf.next_masks is not None
    assert np.array_equal(buf.next_masks[:rows], obs_masks(buf.next_obs[:rows]))


def test_dqn_without_masks_does_take_invalid_actions() -> None:
    """The check above can fail: the same run without masks picks invalid actions."""
    agent, cb = small_dqn(expose_mask=False), _CountInvalid()
    agent.learn(300, callback=cb)
    assert cb.invalid > 0 and agent.buffer.next_masks is None


@pytest.mark.parametrize("double_q", [False, True])
def test_dqn_targets_bootstrap_from_valid_next_actions_only(double_q: bool) -> None:
    agent = small_dqn(double_q=double_q)
    agent.learn(200)
    batch = agent.buffer.sample(64)
    assert batch.next_masks is not None and not batch.next_masks.all()
    with torch.no_grad():
        x = agent._to_input(batch.next_obs)
        q_next = agent.networks["q_target"](x)
        chooser = agent.networks["q"](x) if double_q else q_next
        hand = []
        for qn, qc, m in zip(q_next, chooser, batch.next_masks, strict=True):
            valid = torch.nonzero(m).flatten()
            hand.append(qn[valid[qc[valid].argmax()]])
        expected = batch.rewards + agent.config.gamma * (1 - batch.terminated) * torch.stack(hand)
        assert torch.allclose(agent.td_target(batch), expected)
        # an unmasked max would differ: the invalid actions' values are not all below the valid
        unmasked = (
            batch.rewards + agent.config.gamma * (1 - batch.terminated) * q_next.max(-1).values
        )
        assert not torch.allclose(unmasked, expected)


def test_dqn_predict_honours_action_masks() -> None:
    agent = small_dqn()
    obs = np.zeros((5, LENGTH + N_ACTIONS), dtype=np.float32)
    obs[:, 0] = 1.0
    for valid in ([3], [0, 7], [9]):
        mask = np.zeros(N_ACTIONS, dtype=bool)
        mask[valid] = True
        assert set(agent.predict(obs, action_masks=mask).tolist()) <= set(valid)
        explored = agent.predict(obs, deterministic=False, action_masks=np.stack([mask] * 5))
        assert set(explored.tolist()) <= set(valid)
    with pytest.raises(ValueError, match=r"action_masks has shape \(3,\)"):
        agent.predict(obs, action_masks=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="no action valid"):
        agent.predict(obs, action_masks=np.zeros(N_ACTIONS, dtype=bool))


def test_evaluate_policy_gives_dqn_the_env_masks() -> None:
    agent = small_dqn()
    chosen: list[bool] = []

    def policy(obs: np.ndarray, action_masks: np.ndarray | None = None) -> np.ndarray:
        assert action_masks is not None
        action = agent.predict(obs, action_masks=action_masks)
        chosen.append(bool(action_masks[0, action[0]]))
        return action

    evaluate_policy(policy, CHAIN, episodes=2, env_kwargs=chain_kwargs())
    assert chosen and all(chosen)


def test_dqn_without_env_masks_is_deterministic_and_unmasked() -> None:
    def weights() -> torch.Tensor:
        agent = small_dqn(expose_mask=False, seed=4)
        agent.learn(200)
        assert agent._last_mask is None
        return torch.cat([p.detach().flatten() for p in agent.networks["q"].parameters()])

    assert torch.equal(weights(), weights())


def test_dqn_wrong_shape_env_mask_raises() -> None:
    agent = DQN(BAD_MASK, DQNConfig(net_arch=(8,), learning_starts=10))
    with pytest.raises(ValueError, match=r"action_mask.*shape"):
        agent.learn(20)


@pytest.mark.slow
def test_dqn_with_masks_learns_the_chain() -> None:
    """A masked DQN learns to walk the chain: greedy return at the best possible, on at least
    two of three seeds."""
    best = 1.0 - 0.5 * (LENGTH - 1) / (4 * LENGTH)
    finals = []
    for seed in (1, 2, 3):
        agent = small_dqn(
            net_arch=(64,), learning_rate=1e-3, gamma=0.9, learning_starts=500,
            exploration_fraction=0.3, seed=seed,
        )  # fmt: skip
        agent.learn(6_000)
        returns = evaluate_policy(agent.predict, CHAIN, episodes=5, env_kwargs=chain_kwargs())
        finals.append(float(returns.mean()))
    assert sum(f >= best - 0.01 for f in finals) >= 2, finals
