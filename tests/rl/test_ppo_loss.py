"""PPO's hand-written loss gradient and the autograd-free update agree with autograd."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from prunerl.core import PruningConfig
from prunerl.rl import Callback
from prunerl.rl.masking import masked_categorical
from prunerl.rl.ppo import PPO
from prunerl.rl.ppo_config import PPOConfig
from prunerl.rl.ppo_loss import (
    categorical_ppo_grads,
    clipped_surrogate_loss,
    gradients_by_hand,
    value_loss,
)

torch.set_num_threads(1)


def _problem(masked: bool, seed: int = 0) -> dict[str, Any]:
    """A minibatch with clipped and unclipped ratios, exact ties in both min and max."""
    g = torch.Generator().manual_seed(seed)
    batch, n = 41, 4
    logits = torch.randn(batch, n, generator=g) * 2
    masks = torch.rand(batch, n, generator=g) > 0.3 if masked else None
    if masks is not None:
        masks[:, 0] = True
    probs = masked_categorical(logits, masks).log_probs.exp()
    actions = torch.multinomial(probs, 1, generator=g).squeeze(-1)
    log_probs = masked_categorical(logits, masks).log_prob(actions)
    old_log_probs = log_probs + torch.randn(batch, generator=g) * 0.4
    old_log_probs[:8] = log_probs[:8]  # ratio exactly 1: surrogate and clipped term tie
    values, returns = torch.randn(batch, generator=g), torch.randn(batch, generator=g)
    old_values = values + torch.randn(batch, generator=g) * 0.3
    old_values[:6] = values[:6]  # no change: clipped and unclipped value losses tie
    advantages = torch.randn(batch, generator=g)
    advantages[8:10] = 0.0
    return dict(
        logits=logits,
        masks=masks,
        actions=actions,
        old_log_probs=old_log_probs,
        advantages=advantages,
        values=values,
        old_values=old_values,
        returns=returns,
    )


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("clip_vf", [None, 0.1])
@pytest.mark.parametrize("ent_coef", [0.0, 0.05])
def test_gradients_equal_autograd(masked: bool, clip_vf: float | None, ent_coef: float) -> None:
    p = _problem(masked)
    clip, vf_coef = 0.2, 0.5
    logits = p["logits"].clone().requires_grad_()
    values = p["values"].clone().requires_grad_()
    dist = masked_categorical(logits, p["masks"])
    log_probs = dist.log_prob(p["actions"])
    loss = clipped_surrogate_loss(log_probs, p["old_log_probs"], p["advantages"], clip)
    loss = loss + vf_coef * value_loss(values, p["old_values"], p["returns"], clip_vf)
    loss = loss - ent_coef * dist.entropy().mean()
    loss.backward()

    minibatch = {
        "actions": p["actions"],
        "log_probs": p["old_log_probs"],
        "values": p["old_values"],
        "returns": p["returns"],
    }
    if p["masks"] is not None:
        minibatch["masks"] = p["masks"]
    grads = categorical_ppo_grads(
        p["logits"], p["values"], minibatch, p["advantages"], clip, clip_vf, vf_coef, ent_coef
    )
    assert logits.grad is not None and values.grad is not None
    assert torch.allclose(grads.logits, logits.grad, rtol=1e-5, atol=1e-8)
    assert torch.allclose(grads.values, values.grad, rtol=1e-5, atol=1e-8)
    assert torch.allclose(grads.log_probs, log_probs.detach())
    assert torch.allclose(grads.entropy, dist.entropy().detach())
    if p["masks"] is not None:
        assert not grads.logits[~p["masks"]].any()  # invalid actions get no gradient


SMALL: dict[str, Any] = dict(net_arch=(16, 16), num_envs=2, n_steps=32, batch_size=16, n_epochs=3)


def _flat(agent: PPO) -> torch.Tensor:
    nets = [agent.networks["actor"], agent.networks["critic"]]
    return torch.cat([p.detach().flatten() for net in nets for p in net.parameters()])


@pytest.mark.parametrize(
    "overrides",
    [{}, {"ent_coef": 0.01, "clip_range_vf": 0.2}, {"activation": "relu", "normalize_obs": True}],
    ids=["zoo", "entropy-vf-clip", "relu-normalized"],
)
@pytest.mark.parametrize("pruned", [False, True])
def test_update_by_hand_equals_the_autograd_update(overrides: dict[str, Any], pruned: bool) -> None:
    """The same rollout and update, once with no-op hooks on both networks (which force the
    modules for acting and autograd for the update): the same actions, and the same weights
    up to float rounding."""
    pruning = PruningConfig(method="magnitude", sparsity=0.5) if pruned else None
    agents = []
    for hooked in (False, True):
        agent = PPO("CartPole-v1", PPOConfig(**{**SMALL, **overrides}), seed=2, pruning=pruning)
        if hooked:
            for name in ("actor", "critic"):
                agent.networks[name].register_forward_pre_hook(lambda module, args: None)
        if agent.pruner is not None:
            agent.pruner.update_masks(sparsity=0.5)
        initial = _flat(agent)
        agents.append(agent.learn(64))  # one rollout, one update of 3 epochs x 4 minibatches
    fast, slow = (_flat(a) for a in agents)
    assert agents[0].num_updates == agents[1].num_updates == 12
    assert (fast - initial).abs().max() > 1e-3  # it learned something
    assert torch.allclose(fast, slow, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(
        agents[0].buffer.actions.numpy(), agents[1].buffer.actions.numpy()
    )


def test_first_update_sees_the_rollout_policy_exactly() -> None:
    """Rollout log-probabilities and values come from the update's own forward kernels, so the
    first minibatch's probability ratios are exactly 1 (as with autograd on the modules)."""
    agent = PPO("CartPole-v1", PPOConfig(**SMALL), seed=1)
    agent.learn(64)  # one update: the policy differs from its rollout policy
    assert agent.collect_rollout(Callback())
    plain = agent._plain_networks()
    assert plain is not None
    mb = next(agent.buffer.minibatches(10**6))
    args = (mb, mb["advantages"], 0.2, None, 0.5, 0.0)
    log_probs, values, _ = gradients_by_hand(*plain, *args)
    assert torch.equal(log_probs, mb["log_probs"]) and torch.equal(values, mb["values"])


def test_updates_through_autograd_see_rollout_values_of_the_modules() -> None:
    """Gaussian policies update through autograd, so their rollouts use the modules too."""
    agent = PPO("Pendulum-v1", PPOConfig(**SMALL), seed=1)
    agent.learn(64)
    assert agent._plain_networks() is None and agent.collect_rollout(Callback())
    mb = next(agent.buffer.minibatches(10**6))
    with torch.no_grad():
        assert torch.equal(agent.networks["critic"](mb["obs"]).squeeze(-1), mb["values"])
