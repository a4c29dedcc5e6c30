"""Pruning Stable-Baselines3 models while they learn: sparsity reached, pruned weights exactly
zero after every gradient step, target networks following, clear errors."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from stable_baselines3 import DQN, PPO, SAC
from torch import nn

from prunerl.integrations.sb3 import PruningCallback

torch.set_num_threads(1)

GMP = {"method": "gmp", "sparsity": 0.8, "begin_step": 100, "end_step": 600, "update_every": 100}


def weight_sparsity(module: nn.Module) -> list[float]:
    """Share of exact zeros in every Linear weight of ``module``."""
    return [
        float((m.weight == 0).float().mean()) for m in module.modules() if isinstance(m, nn.Linear)
    ]


class _CheckAfterEveryStep:
    """Counts optimizer steps after which a masked weight was not exactly zero."""

    def __init__(self, cb: PruningCallback, opt: torch.optim.Optimizer) -> None:
        self.cb, self.steps, self.bad = cb, 0, 0
        opt.register_step_post_hook(self)  # registered after the callback's: runs after it

    def __call__(self, *_: Any) -> None:
        assert self.cb.pruner is not None
        self.steps += 1
        for t in self.cb.pruner.targets:
            self.bad += int((t.param[~t.mask] != 0).any())


def test_dqn_q_net_pruned_and_target_follows() -> None:
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, train_freq=4, seed=0,
                policy_kwargs={"net_arch": [32, 32]}, target_update_interval=100)  # fmt: skip
    cb = PruningCallback(GMP)
    model.learn(800, callback=cb)
    assert cb.pruner is not None and cb.pruner.sparsity() == pytest.approx(0.8, abs=0.01)
    assert set(cb.pruner.networks) == {"q_net"}
    for s in weight_sparsity(model.policy.q_net):
        assert s == pytest.approx(0.8, abs=0.02)
    online, target = model.policy.q_net, model.policy.q_net_target
    for a, b in zip(online.modules(), target.modules(), strict=True):
        if isinstance(a, nn.Linear):
            assert torch.equal(a.weight_mask, b.weight_mask)  # type: ignore[arg-type]
            assert (b.weight[~a.weight_mask] == 0).all()  # type: ignore[index,operator]
    # SB3 copies q_net into the target, which hides whether the callback masks the target
    # itself: fill it with ones, stop the copies, train on, and its pruned entries are 0 again
    model.target_update_interval = 10**9
    with torch.no_grad():
        for p in target.parameters():
            p.fill_(1.0)
    model.learn(8, callback=cb, reset_num_timesteps=False)
    for a, b in zip(online.modules(), target.modules(), strict=True):
        if isinstance(a, nn.Linear):
            mask = a.weight_mask
            assert (b.weight[~mask] == 0).all() and (b.weight[mask] == 1).all()  # type: ignore[index,operator]


def test_ppo_masked_weights_stay_zero_after_every_gradient_step() -> None:
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=128, batch_size=64, n_epochs=2, seed=0,
                policy_kwargs={"net_arch": [32, 32]})  # fmt: skip
    cb = PruningCallback(GMP)
    model.learn(128)  # builds nothing of ours; then prune on the next learn
    model.learn(768, callback=cb, reset_num_timesteps=False)
    assert cb.pruner is not None and cb.pruner.sparsity() == pytest.approx(0.8, abs=0.01)
    check = _CheckAfterEveryStep(cb, model.policy.optimizer)
    model.learn(256, callback=cb, reset_num_timesteps=False)  # hooks set again by this learn
    assert check.steps > 0 and check.bad == 0
    assert len(cb._hooks) == 0  # removed when training ended


def test_sac_actor_and_critic_with_separate_targets() -> None:
    model = SAC("MlpPolicy", "Pendulum-v1", learning_starts=50, batch_size=32, seed=0,
                policy_kwargs={"net_arch": [16, 16]})  # fmt: skip
    cb = PruningCallback(
        {**GMP, "sparsity": {"actor": 0.9, "critic": 0.5}, "end_step": 300}, verbose=0
    )
    model.learn(400, callback=cb)
    assert cb.pruner is not None
    assert weight_sparsity(model.policy.actor.latent_pi)[0] == pytest.approx(0.9, abs=0.02)
    assert weight_sparsity(model.policy.critic.qf0)[0] == pytest.approx(0.5, abs=0.02)
    assert weight_sparsity(model.policy.critic_target.qf0)[0] >= 0.5 - 0.02


def test_unknown_network_and_bad_sparsity_are_clear_errors() -> None:
    model = DQN("MlpPolicy", "CartPole-v1", learning_starts=10, seed=0)
    with pytest.raises(ValueError, match=r"no prunable network 'actor'.*'q_net'"):
        model.learn(20, callback=PruningCallback(GMP, networks=["actor"]))
    with pytest.raises(ValueError, match="q_net_target"):
        model.learn(20, callback=PruningCallback(GMP, networks=["q_net_target"]))
    with pytest.raises(ValueError, match="sparsity"):
        PruningCallback(method="magnitude", sparsity=1.5)
