"""Fast unit tests of the SAC agent: spaces, shapes, squashing, masks, targets, determinism."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import torch

from prunerl.core import PruningConfig
from prunerl.rl import agents
from prunerl.rl.distributions import squashed_sample
from prunerl.rl.sac import SAC, TwinQ
from prunerl.rl.sac_config import SACConfig

torch.set_num_threads(1)

SMALL = dict(net_arch=(32, 32), learning_starts=50, batch_size=32, buffer_size=2_000)


def small(**overrides: Any) -> SACConfig:
    return SACConfig(**{**SMALL, **overrides})


def flat_weights(agent: SAC, name: str) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in agent.networks[name].parameters()])


def test_registered_and_tuned_defaults() -> None:
    assert agents.get("sac") is SAC
    assert SACConfig.for_env("Pendulum-v1") != SACConfig()
    assert SACConfig.for_env("SomeUnknownEnv-v0") == SACConfig()


def test_discrete_action_space_is_rejected() -> None:
    with pytest.raises(ValueError, match="use dqn or ppo"):
        SAC("CartPole-v1")


def test_networks_shapes_and_bounded_actions() -> None:
    agent = SAC("Pendulum-v1", small(), seed=0)
    critic = agent.networks["critic"]
    assert isinstance(critic, TwinQ)
    assert set(agent.networks) == {"actor", "critic", "critic_target"}
    obs = torch.randn(7, 3) * 5
    q1, q2 = critic(obs, torch.zeros(7, 1))
    assert q1.shape == q2.shape == (7,)
    actions, log_probs = agent.actor.sample(obs)
    assert actions.shape == (7, 1) and log_probs.shape == (7,)
    for deterministic in (True, False):
        out = agent.predict(obs.numpy(), deterministic=deterministic)
        assert out.shape == (7, 1) and np.all(np.abs(out) <= 2.0)
    assert agent.predict(obs[0].numpy()).shape == (1,)
    assert agent.policy_network() is agent.networks["actor"]


def test_squashed_log_prob_matches_change_of_variables() -> None:
    torch.manual_seed(0)
    mean, log_std = torch.tensor([[0.3, -1.0]]), torch.tensor([[-0.5, 0.2]])
    torch.manual_seed(1)
    action, log_prob = squashed_sample(mean, log_std)
    u = torch.atanh(action.clamp(-0.999999, 0.999999))
    base = torch.distributions.Normal(mean, log_std.exp()).log_prob(u).sum(-1)
    expected = base - torch.log(1 - action.pow(2)).sum(-1)
    assert torch.allclose(log_prob, expected, atol=1e-3)


def test_masks_are_exact_zeros_in_actor_critic_and_target() -> None:
    pruning = PruningConfig(
        method="gmp",
        sparsity={"actor": 0.9, "critic": 0.8},
        begin_step=60,
        end_step=200,
        update_every=20,
    )
    agent = SAC("Pendulum-v1", small(), seed=0, pruning=pruning).learn(300)
    assert agent.pruner is not None and agent.num_updates == 250
    for name, target in (("actor", 0.9), ("critic", 0.8), ("critic_target", 0.8)):
        total = zeros = 0
        for module in agent.networks[name].modules():
            mask = getattr(module, "weight_mask", None)
            if mask is not None:
                assert torch.all(module.weight[~mask] == 0)
                total += mask.numel()
                zeros += int((~mask).sum())
        assert zeros / total == pytest.approx(target, abs=0.02)
    # the target follows the critic's masks, and Polyak averaging has moved it off its start
    assert not torch.equal(flat_weights(agent, "critic"), flat_weights(agent, "critic_target"))


def test_hard_target_update_copies_the_critic() -> None:
    agent = SAC("Pendulum-v1", small(tau=1.0), seed=0).learn(60)
    assert torch.equal(flat_weights(agent, "critic"), flat_weights(agent, "critic_target"))


def test_entropy_temperature_is_tuned_or_fixed() -> None:
    auto = SAC("Pendulum-v1", small(), seed=0).learn(150)
    assert auto.alpha != pytest.approx(1.0) and "alpha" in auto.optimizers
    fixed = SAC("Pendulum-v1", small(alpha=0.2), seed=0).learn(150)
    assert fixed.alpha == 0.2 and "alpha" not in fixed.optimizers


def test_same_seed_gives_identical_weights() -> None:
    a = SAC("Pendulum-v1", small(), seed=5).learn(120)
    b = SAC("Pendulum-v1", small(), seed=5).learn(120)
    c = SAC("Pendulum-v1", small(), seed=6).learn(120)
    for name in ("actor", "critic", "critic_target"):
        assert torch.equal(flat_weights(a, name), flat_weights(b, name))
    assert not torch.equal(flat_weights(a, "actor"), flat_weights(c, "actor"))
    assert a.alpha == b.alpha


def test_checkpoint_round_trip_keeps_temperature() -> None:
    agent = SAC("Pendulum-v1", small(), seed=0).learn(120)
    buffer = io.BytesIO()
    torch.save(agent.state_dict(), buffer)
    buffer.seek(0)
    fresh = SAC("Pendulum-v1", small(), seed=1)
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert fresh.alpha == pytest.approx(agent.alpha)
    obs = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    assert np.array_equal(fresh.predict(obs), agent.predict(obs))


def test_bad_config_raises() -> None:
    with pytest.raises(ValueError, match="tau must be in"):
        SACConfig(tau=0.0)
    with pytest.raises(ValueError, match="alpha must be"):
        SACConfig(alpha=-1.0)
