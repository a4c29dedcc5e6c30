"""Fast unit tests of the PPO agent: GAE, losses, shapes, truncation, masks, determinism."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import torch

from prunerl.core import PruningConfig
from prunerl.rl import Callback, agents
from prunerl.rl.distributions import Categorical, DiagGaussian
from prunerl.rl.policies import GaussianActor
from prunerl.rl.ppo import PPO
from prunerl.rl.ppo_config import PPOConfig
from prunerl.rl.ppo_loss import clipped_surrogate_loss, value_loss
from prunerl.rl.rollout import RolloutBuffer, gae

torch.set_num_threads(1)

SMALL = dict(net_arch=(16, 16), num_envs=2, n_steps=16, batch_size=16, n_epochs=2)


def small(**overrides: Any) -> PPOConfig:
    return PPOConfig(**{**SMALL, **overrides})


def flat_weights(agent: PPO, name: str) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in agent.networks[name].parameters()])


def test_registered_and_tuned_defaults() -> None:
    assert agents.get("ppo") is PPO
    tuned = PPOConfig.for_env("CartPole-v1")
    assert (tuned.n_steps, tuned.batch_size, tuned.n_epochs, tuned.gae_lambda) == (32, 256, 20, 0.8)
    assert PPOConfig.for_env("SomeUnknownEnv-v0") == PPOConfig()
    assert PPO("CartPole-v1").config == tuned


def test_gae_by_hand_with_truncation() -> None:
    """3 steps of one env; the episode is truncated at step 1 (bootstrap value 0.7)."""
    buf = RolloutBuffer(3, 1, (1,), (), torch.int64)
    rewards, values, ends = [1.0, 2.0, 3.0], [0.5, 0.4, 0.3], [0.0, 1.0, 0.0]
    for r, e in zip(rewards, ends, strict=True):
        buf.add(torch.zeros(1, 1), torch.zeros(1), np.array([r]), np.array([e]))
        if e:
            buf.set_bootstrap(np.array([0]), torch.tensor([0.7]))
    buf.finish(torch.zeros(3), torch.tensor(values), torch.tensor([0.2]), gamma=0.9, lam=0.8)
    # deltas: 1 + .9*.4 - .5 = .86;  2 + .9*.7 - .4 = 2.23;  3 + .9*.2 - .3 = 2.88
    # A2 = 2.88; A1 = 2.23 (episode ended); A0 = .86 + .9*.8*2.23 = 2.4656
    expected = torch.tensor([[2.4656], [2.23], [2.88]])
    assert torch.allclose(buf.advantages, expected, atol=1e-5)
    assert torch.allclose(buf.returns, expected + torch.tensor([[0.5], [0.4], [0.3]]), atol=1e-5)


def test_gae_termination_does_not_bootstrap() -> None:
    rewards = torch.tensor([[1.0], [2.0]])
    values = torch.tensor([[0.5], [0.4]])
    next_values = torch.tensor([[0.4], [0.0]])  # terminated at step 1
    adv, ret = gae(rewards, values, next_values, torch.tensor([[0.0], [1.0]]), 1.0, 1.0)
    assert torch.allclose(adv, torch.tensor([[2.5], [1.6]]))
    assert torch.allclose(ret, torch.tensor([[3.0], [2.0]]))


def test_clipped_objective_by_hand() -> None:
    ratio = torch.tensor([1.5, 0.5, 1.0, 0.5])
    advantages = torch.tensor([1.0, 1.0, -1.0, -1.0])
    old = torch.zeros(4)
    loss = clipped_surrogate_loss(ratio.log(), old, advantages, clip=0.2)
    # min(r A, clip(r) A): 1.2, 0.5, -1.0, -0.8 -> mean -0.025
    assert loss.item() == pytest.approx(0.025, abs=1e-6)


def test_value_clipping_by_hand() -> None:
    v, old, ret = torch.tensor([1.0]), torch.tensor([0.0]), torch.tensor([2.0])
    assert value_loss(v, old, ret, None).item() == pytest.approx(0.5)
    # clipped value 0.2: (0.2 - 2)^2 = 3.24 is the larger error
    assert value_loss(v, old, ret, 0.2).item() == pytest.approx(1.62)


def test_discrete_shapes_and_predict() -> None:
    agent = PPO("CartPole-v1", small(), seed=0)
    obs = np.zeros((5, 4), dtype=np.float32)
    assert agent.networks["actor"](torch.from_numpy(obs)).shape == (5, 2)
    assert agent.networks["critic"](torch.from_numpy(obs)).shape == (5, 1)
    actions = agent.predict(obs)
    assert actions.shape == (5,) and set(actions.tolist()) <= {0, 1}
    assert np.ndim(agent.predict(obs[0])) == 0
    assert agent.policy_network() is agent.networks["actor"]


def test_continuous_actions_are_gaussian_and_clipped() -> None:
    agent = PPO("Pendulum-v1", small(log_std_init=1.0), seed=0)
    actor = agent.networks["actor"]
    assert isinstance(actor, GaussianActor) and actor.log_std.shape == (1,)
    obs = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    for deterministic in (True, False):
        actions = agent.predict(obs, deterministic=deterministic)
        assert actions.shape == (64, 1)
        assert np.all(np.abs(actions) <= 2.0)
    agent.learn(64)
    assert agent.num_updates == 2 * 2 * 2  # n_epochs * minibatches * rollouts


def test_truncated_episodes_bootstrap_from_final_observation() -> None:
    agent = PPO("CartPole-v1", small(), seed=0, env_kwargs={"max_episode_steps": 5})
    agent._obs = agent.normalize_obs(agent.envs.reset(seed=0)[0])
    assert agent.collect_rollout(Callback())
    buf = agent.buffer
    truncated = buf.ends.bool()
    assert truncated.sum() >= 4  # 16 steps per env, episodes cut every 5 steps
    assert torch.all(buf.bootstrap[truncated] != 0)
    assert torch.all(buf.bootstrap[~truncated] == 0)


def test_callbacks_count_steps_and_stop() -> None:
    class Recorder(Callback):
        def __init__(self) -> None:
            self.steps, self.episodes, self.updates = 0, 0, 0

        def on_step(self, agent: Any) -> bool:
            self.steps += 1
            return agent.num_timesteps < 200

        def on_episode(self, agent: Any, episode_return: float, length: int) -> None:
            self.episodes += 1

        def on_update(self, agent: Any, metrics: dict[str, float]) -> None:
            self.updates += 1
            assert {"policy_loss", "value_loss", "entropy", "approx_kl"} <= set(metrics)

    rec = Recorder()
    agent = PPO("CartPole-v1", small(), seed=0).learn(1_000, callback=rec)
    assert agent.num_timesteps == 200 and rec.steps == 100
    assert rec.updates == 200 // 32 and rec.episodes > 0


def test_masks_are_exact_zeros_after_learning_per_network_targets() -> None:
    pruning = PruningConfig(
        method="gmp",
        sparsity={"actor": 0.95, "critic": 0.8},
        begin_step=0,
        end_step=400,
        update_every=64,
    )
    agent = PPO("CartPole-v1", small(net_arch=(32, 32)), seed=0, pruning=pruning).learn(640)
    assert agent.pruner is not None
    for name, target in (("actor", 0.95), ("critic", 0.8)):
        masked = pruned = 0
        for module in agent.networks[name].modules():
            mask = getattr(module, "weight_mask", None)
            if mask is not None:
                assert torch.all(module.weight[~mask] == 0)
                masked += mask.numel()
                pruned += int((~mask).sum())
        assert pruned / masked == pytest.approx(target, abs=0.02)


def test_sparsity_dict_mixing_network_and_layer_keys_prunes_both() -> None:
    pruning = PruningConfig(method="magnitude", sparsity={"actor": 0.9, "critic.2": 0.5})
    agent = PPO("CartPole-v1", small(net_arch=(16, 16)), seed=0, pruning=pruning).learn(64)
    assert agent.pruner is not None
    layers = agent.pruner.layer_sparsity()
    assert layers["critic.2.weight"] == pytest.approx(0.5)
    assert all(v == pytest.approx(0.9, abs=0.02) for k, v in layers.items() if k[:5] == "actor")


def test_same_seed_gives_identical_weights() -> None:
    config = small(normalize_obs=True, normalize_reward=True)
    a = PPO("CartPole-v1", config, seed=3).learn(128)
    b = PPO("CartPole-v1", config, seed=3).learn(128)
    c = PPO("CartPole-v1", config, seed=4).learn(128)
    for name in ("actor", "critic"):
        assert torch.equal(flat_weights(a, name), flat_weights(b, name))
    assert not torch.equal(flat_weights(a, "actor"), flat_weights(c, "actor"))


def test_checkpoint_keeps_normalisation_statistics() -> None:
    config = small(normalize_obs=True, normalize_reward=True)
    agent = PPO("CartPole-v1", config, seed=0).learn(64)
    buffer = io.BytesIO()
    torch.save(agent.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    assert set(state["extra"]) == {"obs_rms", "reward_rms", "rollout"}
    fresh = PPO("CartPole-v1", config, seed=1)
    fresh.load_state_dict(state)
    assert fresh.obs_normalizer is not None and agent.obs_normalizer is not None
    assert np.allclose(fresh.obs_normalizer.rms.mean, agent.obs_normalizer.rms.mean)
    obs = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    assert np.array_equal(fresh.predict(obs), agent.predict(obs))
    assert fresh.num_timesteps == 64


def test_bad_config_raises() -> None:
    with pytest.raises(ValueError, match="batch_size 512 exceeds the rollout size"):
        PPOConfig(num_envs=2, n_steps=16, batch_size=512)
    with pytest.raises(ValueError, match="gae_lambda"):
        PPOConfig(gae_lambda=1.5)


def test_distributions_match_torch() -> None:
    torch.manual_seed(0)
    logits = torch.randn(5, 3)
    actions = torch.tensor([0, 1, 2, 1, 0])
    ours, ref = Categorical(logits), torch.distributions.Categorical(logits=logits)
    assert torch.allclose(ours.log_prob(actions), ref.log_prob(actions), atol=1e-6)
    assert torch.allclose(ours.entropy(), ref.entropy(), atol=1e-6)
    freq = torch.bincount(Categorical(logits[:1].expand(100_000, 3)).sample(), minlength=3)
    assert torch.allclose(freq / 100_000, ref.probs[0], atol=0.01)
    mean, log_std = torch.randn(5, 2), torch.randn(2)
    gauss = DiagGaussian(mean, log_std)
    normal = torch.distributions.Normal(mean, log_std.exp())
    x = torch.randn(5, 2)
    assert torch.allclose(gauss.log_prob(x), normal.log_prob(x).sum(-1), atol=1e-5)
    assert torch.allclose(gauss.entropy(), normal.entropy().sum(-1), atol=1e-5)


def test_pruned_weights_get_no_gradient_before_clipping() -> None:
    pruning = PruningConfig(method="magnitude", sparsity=0.5)
    agent = PPO("CartPole-v1", small(), seed=0, pruning=pruning)
    agent.pruner.update_masks(sparsity=0.5)  # type: ignore[union-attr]
    obs = torch.randn(8, 4)
    (agent.networks["actor"](obs).sum() + agent.networks["critic"](obs).sum()).backward()
    agent.mask_gradients()
    for name in ("actor", "critic"):
        for module in agent.networks[name].modules():
            mask = getattr(module, "weight_mask", None)
            if mask is not None:
                assert torch.all(module.weight.grad[~mask] == 0)
                assert torch.any(module.weight.grad[mask] != 0)


def test_learning_stopped_mid_rollout_continues_it_exactly() -> None:
    class _StopAt(Callback):
        def on_step(self, agent: Any) -> bool:
            return agent.num_timesteps != 40  # inside the second rollout (32 steps each)

    whole = PPO("CartPole-v1", small(), seed=2).learn(128)
    parts = PPO("CartPole-v1", small(), seed=2)
    parts.learn(128, callback=_StopAt())
    assert parts.num_timesteps == 40 and parts.buffer.pos > 0
    parts.learn(128)
    assert parts.num_timesteps == whole.num_timesteps == 128
    for name in ("actor", "critic"):
        for a, b in zip(
            whole.networks[name].parameters(), parts.networks[name].parameters(), strict=True
        ):
            assert torch.equal(a, b)
