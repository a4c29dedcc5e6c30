"""AgentSubject on a small real DQN: one-shot steps, masks kept while training, exact rollback."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from prunerl.core import PruningConfig
from prunerl.loop import AgentSubject, GatedPruner, LoopConfig
from prunerl.rl.dqn import DQN, DQNConfig

torch.set_num_threads(1)


def small_dqn(seed: int = 0, pruning: PruningConfig | None = None) -> DQN:
    config = DQNConfig(
        net_arch=(32, 32),
        learning_starts=50,
        batch_size=16,
        train_freq=4,
        gradient_steps=2,
        target_update_interval=20,
        buffer_size=2_000,
    )
    return DQN("CartPole-v1", config, seed=seed, pruning=pruning)


def loop_config(**changes: Any) -> LoopConfig:
    return LoopConfig(**{"target": 0.9, "eval_episodes": 3, **changes})


def weights(agent: DQN, name: str = "q") -> list[torch.Tensor]:
    return [p.detach().clone() for p in agent.networks[name].parameters()]


def test_prune_to_reaches_the_sparsity_and_targets_follow() -> None:
    agent = small_dqn()
    subject = AgentSubject(agent, loop_config(distribution="uniform"))
    assert subject.sparsity() == 0.0 and subject.targets() == {"all": 0.9}
    subject.prune_to({"all": 0.5})
    assert subject.group_sparsity()["all"] == pytest.approx(0.5, abs=0.01)
    for name, s in subject.layer_sparsity().items():
        assert s == pytest.approx(0.5, abs=0.02), name
    agent.update_target()
    for online, target in zip(weights(agent), weights(agent, "q_target"), strict=True):
        assert torch.equal(online == 0, target == 0)


def test_training_keeps_the_masks_no_schedule_update() -> None:
    agent = small_dqn()
    subject = AgentSubject(agent, loop_config())
    subject.prune_to({"all": 0.6})
    masks = {k: v.clone() for k, v in subject.pruner.masks.items()}
    before = subject.sparsity()
    assert subject.train(300) == 300
    assert subject.sparsity() == before  # the loop's target (0.9) is never applied by training
    for name, mask in subject.pruner.masks.items():
        assert torch.equal(mask, masks[name])
        param = dict(agent.networks["q"].named_parameters())[name.removeprefix("q.")]
        assert bool((param[~mask] == 0).all())


def test_restore_brings_back_weights_masks_optimizer_and_counters() -> None:
    agent = small_dqn()
    subject = AgentSubject(agent, loop_config())
    subject.train(200)
    snap = subject.snapshot()
    saved_w = weights(agent)
    saved_opt = [v.clone() for s in agent.optimizers["q"].state.values() for v in s.values()]
    steps = agent.num_timesteps
    subject.prune_to({"all": 0.8})
    subject.train(200)
    subject.restore(snap)
    assert agent.num_timesteps == steps and subject.sparsity() == 0.0
    for a, b in zip(weights(agent), saved_w, strict=True):
        assert torch.equal(a, b)
    now = [v for s in agent.optimizers["q"].state.values() for v in s.values()]
    for a, b in zip(now, saved_opt, strict=True):
        assert torch.equal(a, b)
    subject.train(100)  # training after a restore must not change the snapshot itself
    subject.restore(snap)
    for a, b in zip(weights(agent), saved_w, strict=True):
        assert torch.equal(a, b)


def test_weights_already_zero_stay_pruned() -> None:
    agent = small_dqn(pruning=PruningConfig(method="magnitude", sparsity=0.5, schedule="one_shot"))
    assert agent.pruner is not None
    agent.pruner.update_masks(step=0)
    subject = AgentSubject(agent, loop_config(target=0.9, distribution="uniform"))
    assert subject.sparsity() == pytest.approx(0.5, abs=0.01)
    low = loop_config(target=0.3)
    with pytest.raises(
        ValueError, match=r"target sparsity 0\.3 is below the current sparsity 0\.5"
    ):
        GatedPruner(AgentSubject(agent, low), low)


def test_evaluate_uses_fixed_seeds() -> None:
    subject = AgentSubject(small_dqn(), loop_config())
    first, second = subject.evaluate(3, 123), subject.evaluate(3, 123)
    assert first.shape == (3,) and np.array_equal(first, second)


def test_per_network_and_per_layer_targets() -> None:
    subject = AgentSubject(small_dqn(), loop_config(target={"q.0.weight": 0.3, "q": 0.9}))
    assert subject.targets() == {"q.0.weight": 0.3, "q": 0.9}
    subject.prune_to({"q.0.weight": 0.3, "q": 0.8})
    layers = subject.layer_sparsity()
    assert layers["q.0.weight"] == pytest.approx(0.3, abs=0.02)
    assert subject.group_sparsity()["q"] == pytest.approx(0.8, abs=0.01)


def test_agent_overrides_change_fine_tuning_hyperparameters() -> None:
    agent = small_dqn()
    AgentSubject(agent, loop_config(agent_overrides={"learning_rate": 1e-5}))
    assert agent.config.learning_rate == 1e-5
    with pytest.raises(ValueError, match=r"unknown dqn hyperparameter.*learning_rte"):
        AgentSubject(small_dqn(), loop_config(agent_overrides={"learning_rte": 1e-5}))


def test_fine_tuning_runs_at_a_share_of_the_learning_rate() -> None:
    agent = small_dqn()
    base = agent.config.learning_rate
    subject = AgentSubject(agent, loop_config(lr_scale=0.1))
    assert agent.config.learning_rate == pytest.approx(base * 0.1)
    assert agent.optimizers["q"].param_groups[0]["lr"] == pytest.approx(base * 0.1)
    # a second subject on the same agent scales the original rate, not the scaled one
    AgentSubject(agent, loop_config(lr_scale=0.5), base_config=subject.base_config)
    assert agent.config.learning_rate == pytest.approx(base * 0.5)
    with pytest.raises(ValueError, match=r"lr_scale must be in \(0, 1\]"):
        loop_config(lr_scale=2.0)


def test_sparse_training_methods_and_structured_are_refused() -> None:
    with pytest.raises(ValueError, match="gated loop prunes step by step"):
        AgentSubject(small_dqn(), loop_config(method="rigl"))
    with pytest.raises(ValueError, match=r"use prunerl\.loop\.structured\.StructuredSubject"):
        AgentSubject(small_dqn(), loop_config(structured=True))
