"""DQN's autograd-free updates and numpy acting give what the module and autograd give."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from prunerl.core import PruningConfig
from prunerl.rl.dqn import DQN, DQNConfig
from prunerl.rl.dqn_loss import LOSS_FUNCTIONS, loss_grad
from prunerl.spaces.action_mask import masked_argmax

torch.set_num_threads(1)

SMALL: dict[str, Any] = dict(
    net_arch=(32, 32),
    learning_starts=100,
    batch_size=16,
    train_freq=4,
    gradient_steps=2,
    target_update_interval=50,
    buffer_size=5_000,
)
RANDOM_ACTING = dict(exploration_initial_eps=1.0, exploration_final_eps=1.0)


@pytest.mark.parametrize("loss", ["huber", "mse"])
@pytest.mark.parametrize("batch", [48, 37])
def test_loss_gradient_by_hand_is_the_losses_backward_bit_for_bit(loss: str, batch: int) -> None:
    torch.manual_seed(2)
    q_taken, target = torch.randn(batch) * 3, torch.randn(batch) * 3
    leaf = q_taken.clone().requires_grad_()
    LOSS_FUNCTIONS[loss](leaf, target).backward()
    assert torch.equal(loss_grad(q_taken - target, loss), leaf.grad)


def _state(agent: DQN) -> list[torch.Tensor]:
    """Online and target weights and Adam moments, flattened."""
    opt = agent.optimizers["q"]
    moments = [v for s in opt.state.values() for k, v in s.items() if k != "step"]
    params = [*agent.networks["q"].parameters(), *agent.networks["q_target"].parameters()]
    return [t.detach().flatten() for t in [*params, *moments]]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"loss": "mse", "double_q": True},
        {"max_grad_norm": None, "n_step": 3, "tau": 0.1},
        {"normalize_obs": True},
        {"dueling": True, "double_q": True, "n_step": 3, "normalize_obs": True},
    ],
    ids=["huber", "mse-double", "no-clip-nstep-polyak", "normalized", "cartpole-defaults"],
)
@pytest.mark.parametrize("pruned", [False, True])
def test_updates_equal_autograd_updates_bit_for_bit(
    overrides: dict[str, Any], pruned: bool
) -> None:
    """The same run twice, once with a no-op hook on the Q-network (which forces the module
    forward and autograd): identical weights, targets and optimizer state."""
    config = DQNConfig(**{**SMALL, **RANDOM_ACTING, **overrides})
    pruning = PruningConfig(
        method="gmp", sparsity=0.7, begin_step=200, end_step=500, update_every=50
    )
    runs = []
    for hooked in (False, True):
        agent = DQN("CartPole-v1", config, pruning=pruning if pruned else None, seed=5)
        if hooked:
            agent.networks["q"].register_forward_pre_hook(lambda module, args: None)
        runs.append(agent.learn(700))
    assert runs[0].num_updates == runs[1].num_updates > 0
    for fast, slow in zip(_state(runs[0]), _state(runs[1]), strict=True):
        assert torch.equal(fast, slow)


@pytest.mark.parametrize("normalize_obs", [False, True])
@pytest.mark.parametrize("dueling", [False, True])
def test_numpy_acting_picks_the_torch_greedy_action(normalize_obs: bool, dueling: bool) -> None:
    config = DQNConfig(**SMALL, normalize_obs=normalize_obs, dueling=dueling)
    agent = DQN("CartPole-v1", config, seed=0)
    agent.learn(1_000)
    rng = np.random.default_rng(0)
    for _ in range(200):
        obs = rng.normal(size=4).astype(np.float32)
        mask = None if rng.random() < 0.5 else np.array([True, False])[rng.permutation(2)]
        want = int(masked_argmax(agent.q_values(obs[None]), mask)[0])
        assert agent._greedy_action(obs, mask) == want


def test_hooked_network_is_used_for_acting() -> None:
    """A forward hook on the Q-network sees every acting forward: the numpy path steps aside."""
    agent = DQN("CartPole-v1", DQNConfig(**SMALL, exploration_fraction=1e-3), seed=0)
    agent.learn(300)
    calls = []
    agent.networks["q"].register_forward_hook(lambda m, i, o: calls.append(len(i[0])))
    agent.learn(400)
    assert calls.count(1) > 50  # batch-1 acting forwards went through the module
