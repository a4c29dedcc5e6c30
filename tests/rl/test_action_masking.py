"""Env-provided action masks in the agents: valid actions only, masked math, none = as before."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

import prunerl.rl.masking as masking
from prunerl.rl import Callback
from prunerl.rl.distributions import Categorical
from prunerl.rl.evaluate import evaluate_policy
from prunerl.rl.ppo import PPO
from prunerl.rl.ppo_config import PPOConfig
from prunerl.rl.test_envs import InvalidActionChain

torch.set_num_threads(1)

CHAIN = "prunerl/InvalidActionChain-v0"
LENGTH, N_ACTIONS = 6, 10
CHAIN_KWARGS = {"length": LENGTH, "n_actions": N_ACTIONS, "valid_per_cell": 3}
BAD_MASK = "prunerl-test/BadMaskChain-v0"


class _BadMask(gym.Wrapper[Any, Any, Any, Any]):
    """Reports a mask one action too short (an env bug the agents must name)."""

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, _ = self.env.reset(**kwargs)
        return obs, {"action_mask": np.ones(N_ACTIONS - 1, dtype=bool)}

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, r, term, trunc, _ = self.env.step(action)
        return obs, r, term, trunc, {"action_mask": np.ones(N_ACTIONS - 1, dtype=bool)}


def _make_bad_mask_env(**kwargs: Any) -> gym.Env:
    return _BadMask(InvalidActionChain(**{**CHAIN_KWARGS, **kwargs}))


if BAD_MASK not in gym.registry:
    gym.register(id=BAD_MASK, entry_point=_make_bad_mask_env)


def chain_kwargs(expose_mask: bool = True) -> dict[str, Any]:
    return {**CHAIN_KWARGS, "expose_mask": expose_mask}


def obs_masks(obs: torch.Tensor | np.ndarray) -> np.ndarray:
    """The chain's observation ends with the valid-action mask of the current cell."""
    return np.asarray(obs)[..., LENGTH:] > 0.5


def hand_log_prob_entropy(
    logits: torch.Tensor, actions: torch.Tensor, masks: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax over the valid logits of each row, computed row by row."""
    lps, ents = [], []
    for row, a, m in zip(logits, actions, masks, strict=True):
        valid = torch.nonzero(m).flatten()
        lp = torch.log_softmax(row[valid], dim=-1)
        lps.append(lp[(valid == a).nonzero()[0, 0]])
        ents.append(-(lp.exp() * lp).sum())
    return torch.stack(lps), torch.stack(ents)


# ---------------------------------------------------------------------------------------- PPO
def small_ppo(expose_mask: bool = True, seed: int = 0, **overrides: Any) -> PPO:
    cfg = PPOConfig(
        **{
            "net_arch": (16,),
            "num_envs": 2,
            "n_steps": 32,
            "batch_size": 32,
            "n_epochs": 2,
            "normalize_obs": False,
            **overrides,
        }
    )
    return PPO(CHAIN, cfg, seed=seed, env_kwargs=chain_kwargs(expose_mask))


class _CountInvalid(Callback):
    """Counts stored rollout actions that the chain's current cell does not allow."""

    def __init__(self) -> None:
        self.invalid = 0
        self.steps = 0

    def on_step(self, agent: Any) -> bool:
        buf = agent.buffer
        i = buf.pos - 1
        valid = obs_masks(buf.obs[i])
        actions = buf.actions[i].numpy()
        self.invalid += int((~valid[np.arange(len(actions)), actions]).sum())
        self.steps += len(actions)
        return True


def test_ppo_never_samples_invalid_actions() -> None:
    agent, cb = small_ppo(), _CountInvalid()
    agent.learn(640, callback=cb)
    assert cb.steps >= 640 and cb.invalid == 0
    assert agent.buffer.masks is not None
    assert np.array_equal(agent.buffer.masks.numpy(), obs_masks(agent.buffer.obs))


def test_ppo_without_masks_does_take_invalid_actions() -> None:
    """The check above can fail: a maskless run of the same env picks invalid actions."""
    agent, cb = small_ppo(expose_mask=False), _CountInvalid()
    agent.learn(256, callback=cb)
    assert cb.invalid > 0


def test_ppo_log_probs_and_entropy_are_masked_hand_computation() -> None:
    agent = small_ppo()
    agent.learn(64)
    buf = agent.buffer
    obs, actions = buf.obs.flatten(0, 1), buf.actions.flatten(0, 1)
    masks = buf.flat_masks()
    assert masks is not None and not masks.all()
    with torch.no_grad():
        logits = agent.networks["actor"](obs)
        lp_hand, ent_hand = hand_log_prob_entropy(logits, actions, masks)
        dist = agent.distribution(obs, masks)
        assert torch.allclose(dist.log_prob(actions), lp_hand, atol=1e-5)
        assert torch.allclose(dist.entropy(), ent_hand, atol=1e-5)
        # the rollout stored the masked log-probs of the (pre-update) rollout policy
        unmasked = Categorical(logits).log_prob(actions)
        assert (dist.log_prob(actions) > unmasked + 1e-3).all()
    # the update's minibatches carry the masks
    mb = next(buf.minibatches(16))
    assert "masks" in mb and mb["masks"].shape == (16, N_ACTIONS)


def test_ppo_masked_gradients_ignore_invalid_logits() -> None:
    agent = small_ppo()
    obs = torch.from_numpy(np.eye(LENGTH + N_ACTIONS, dtype=np.float32)[:1])
    mask = torch.zeros(1, N_ACTIONS, dtype=torch.bool)
    mask[0, [1, 4]] = True
    logits = agent.networks["actor"](obs).detach().requires_grad_(True)
    masking.masked_categorical(logits, mask).entropy().sum().backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    assert (logits.grad[~mask] == 0).all()


def test_ppo_predict_honours_action_masks() -> None:
    agent = small_ppo()
    env = InvalidActionChain(**CHAIN_KWARGS)
    obs, info = env.reset(seed=0)
    batch = np.stack([obs] * 5)
    for valid in ([3], [0, 7], [9]):
        mask = np.zeros(N_ACTIONS, dtype=bool)
        mask[valid] = True
        assert set(agent.predict(batch, action_masks=mask).tolist()) <= set(valid)
        sampled = agent.predict(batch, deterministic=False, action_masks=np.stack([mask] * 5))
        assert set(sampled.tolist()) <= set(valid)
    assert int(agent.predict(obs, action_masks=info["action_mask"])) in np.flatnonzero(
        info["action_mask"]
    )
    with pytest.raises(ValueError, match=r"action_masks has shape \(3,\)"):
        agent.predict(batch, action_masks=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="no action valid"):
        agent.predict(batch, action_masks=np.zeros(N_ACTIONS, dtype=bool))


def test_ppo_without_env_masks_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """No masks: no mask storage, deterministic, and the same weights as the plain categorical."""

    def run() -> tuple[PPO, torch.Tensor]:
        agent = small_ppo(expose_mask=False, seed=3)
        agent.learn(128)
        weights = torch.cat([p.detach().flatten() for p in agent.networks["actor"].parameters()])
        return agent, weights

    agent, w1 = run()
    assert agent.buffer.masks is None and agent._masks is None
    _, w2 = run()
    assert torch.equal(w1, w2)
    monkeypatch.setattr(
        "prunerl.rl.ppo_acting.masked_categorical", lambda logits, _m: Categorical(logits)
    )
    _, w3 = run()
    assert torch.equal(w1, w3)


def test_ppo_wrong_shape_env_mask_raises() -> None:
    agent = PPO(BAD_MASK, PPOConfig(net_arch=(8,), num_envs=2, n_steps=8, batch_size=16))
    with pytest.raises(ValueError, match=r"action_mask.*shape \(2, 9\)"):
        agent.learn(32)


def test_evaluate_policy_passes_env_masks() -> None:
    agent = small_ppo()
    seen: list[np.ndarray] = []

    def policy(obs: np.ndarray, action_masks: np.ndarray | None = None) -> np.ndarray:
        assert action_masks is not None
        assert np.array_equal(action_masks, obs_masks(obs))
        seen.append(action_masks)
        return agent.predict(obs, action_masks=action_masks)

    returns = evaluate_policy(policy, CHAIN, episodes=2, env_kwargs=chain_kwargs())
    assert len(seen) > 0 and returns.shape == (2,)
    # a policy without the keyword still works (backwards compatible)
    evaluate_policy(lambda o: agent.predict(o), CHAIN, episodes=1, env_kwargs=chain_kwargs())
