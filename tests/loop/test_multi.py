"""Multi-model pruning: an ensemble with a shared budget or separate targets, and PPO's two nets."""

from __future__ import annotations

import pytest
import torch

from loop.test_subject import loop_config, small_dqn
from prunerl.loop import AgentSubject, GatedPruner
from prunerl.loop.multi import EnsembleSubject
from prunerl.rl.ppo import PPO, PPOConfig


def member_sparsity(subject: EnsembleSubject, i: int) -> float:
    return subject.members[i].sparsity()


def test_shared_budget_ranks_all_members_together() -> None:
    big, small = small_dqn(0), small_dqn(1)
    with torch.no_grad():
        for p in big.networks["q"].parameters():
            p.mul_(10.0)
    subject = EnsembleSubject([big, small], loop_config(target=0.9), shared=True)
    assert subject.targets() == {"ensemble": 0.9}
    subject.prune_to({"ensemble": 0.5})
    assert subject.sparsity() == pytest.approx(0.5, abs=0.01)
    # the member with small weights gives up (almost) all the pruned ones
    assert member_sparsity(subject, 1) > 0.85 and member_sparsity(subject, 0) < 0.15
    masks = [{k: v.clone() for k, v in m.pruner.masks.items()} for m in subject.members]
    subject.train(50)
    for member, before in zip(subject.members, masks, strict=True):
        for name, mask in member.pruner.masks.items():
            assert torch.equal(mask, before[name])


def test_separate_targets_per_member() -> None:
    subject = EnsembleSubject([small_dqn(0), small_dqn(1)], loop_config(target=0.8))
    assert subject.targets() == {"m0/all": 0.8, "m1/all": 0.8}
    subject.prune_to({"m0/all": 0.3, "m1/all": 0.6})
    assert member_sparsity(subject, 0) == pytest.approx(0.3, abs=0.01)
    assert member_sparsity(subject, 1) == pytest.approx(0.6, abs=0.01)
    assert subject.evaluate(4, 7).shape == (2, 4)
    snap = subject.snapshot()
    subject.prune_to({"m0/all": 0.7, "m1/all": 0.7})
    subject.restore(snap)
    assert member_sparsity(subject, 0) == pytest.approx(0.3, abs=0.01)


def test_the_loop_prunes_an_ensemble_to_its_target() -> None:
    config = loop_config(
        target=0.8, tolerance=1e4, mode="absolute", finetune_steps=20, eval_before_finetune=False
    )
    subject = EnsembleSubject([small_dqn(0), small_dqn(1)], config, shared=True)
    result = GatedPruner(subject, config).run()
    assert result.stop_reason == "target_reached"
    assert result.sparsity == pytest.approx(0.8, abs=0.01)
    assert result.reference.n_runs == 2  # returns judged as members x episodes


def test_ensemble_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 2 agents"):
        EnsembleSubject([small_dqn()], loop_config())
    with pytest.raises(ValueError, match="shared budget takes one target"):
        EnsembleSubject([small_dqn(0), small_dqn(1)], loop_config(target={"q": 0.5}), shared=True)


def test_actor_and_critic_with_separate_targets() -> None:
    agent = PPO("CartPole-v1", PPOConfig(num_envs=2, n_steps=16, batch_size=16, n_epochs=1))
    config = loop_config(target={"actor": 0.9, "critic": 0.5}, distribution="uniform")
    subject = AgentSubject(agent, config)
    subject.prune_to({"actor": 0.6, "critic": 0.5})
    groups = subject.group_sparsity()
    assert groups["actor"] == pytest.approx(0.6, abs=0.01)
    assert groups["critic"] == pytest.approx(0.5, abs=0.01)
    subject.train(64)
    assert subject.group_sparsity() == groups


def test_layer_keys_mix_with_network_keys() -> None:
    """Per-layer targets (from a sensitivity analysis) beside whole-network ones."""
    agent = PPO("CartPole-v1", PPOConfig(num_envs=2, n_steps=16, batch_size=16, n_epochs=1))
    target = {"actor.0.weight": 0.3, "actor": 0.9, "critic": 0.5}
    subject = AgentSubject(agent, loop_config(target=target, distribution="uniform"))
    subject.prune_to(target)
    layers = subject.layer_sparsity()
    assert layers["actor.0.weight"] == pytest.approx(0.3, abs=0.02)
    assert layers["actor.2.weight"] == pytest.approx(0.9, abs=0.02)
    assert layers["critic.2.weight"] == pytest.approx(0.5, abs=0.02)
    assert set(subject.group_sparsity()) == set(target)
