"""Recovery by distillation: the losses, the state pool, and a pruned agent pulled back."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from prunerl.loop import LoopConfig
from prunerl.loop.distill import StatePool, distillation_loss, freeze
from prunerl.loop.structured import agent_subject
from prunerl.rl import DQN, PPO, DQNConfig


def test_q_loss_ignores_the_value_level_and_sees_the_best_action() -> None:
    teacher = torch.tensor([[10.0, 10.5], [3.0, 1.0]])
    assert distillation_loss("q", teacher.clone(), teacher) == pytest.approx(0.0, abs=1e-7)
    shifted = distillation_loss("q", teacher + 100.0, teacher + 100.0)
    assert shifted == pytest.approx(0.0, abs=1e-7)  # only differences between actions count
    level = distillation_loss("q", teacher + 7.0, teacher)  # same preferences, other level
    swapped = distillation_loss("q", teacher.flip(-1), teacher)  # the best actions swapped
    assert level == pytest.approx(0.0, abs=1e-6) and swapped > 0.5


def test_regression_loss_is_scaled_by_the_teachers_variance() -> None:
    teacher = torch.tensor([0.0, 2.0, 4.0])
    a = distillation_loss("regression", teacher + 1.0, teacher)
    b = distillation_loss("regression", 10 * teacher + 10.0, 10 * teacher)
    assert a == pytest.approx(b) == pytest.approx(1.0 / teacher.var().item())
    with pytest.raises(ValueError, match="unknown distillation kind"):
        distillation_loss("mse", teacher, teacher)


def test_state_pool_is_bounded_and_keeps_a_uniform_sample() -> None:
    pool = StatePool(seed=0, max_bytes=100 * 4 * 4)  # room for 100 float32 4-vectors
    for start in range(0, 10_000, 50):
        pool.add(np.arange(start, start + 50, dtype=np.float32)[:, None].repeat(4, 1))
    assert pool.size == 100 and pool.seen == 10_000
    kept = pool.data[:, 0] if pool.data is not None else np.empty(0)
    assert 3000 < kept.mean() < 7000  # a reservoir, not the first or last 100 offered


def test_frozen_copies_have_no_gradients_or_hooks() -> None:
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    net[0].register_forward_pre_hook(lambda *_: None)
    teacher = freeze(net)
    assert not any(p.requires_grad for p in teacher.parameters())
    assert not teacher[0]._forward_pre_hooks and len(net[0]._forward_pre_hooks) == 1


@pytest.mark.parametrize("algo", ["dqn", "ppo"])
def test_distillation_pulls_a_pruned_agent_back_and_keeps_its_masks(algo: str) -> None:
    """80% of a network's weights pruned at once: distillation towards the unpruned network
    lowers the loss and raises the agreement of greedy actions, and pruned weights stay 0."""
    torch.manual_seed(0)
    agent = (
        DQN("CartPole-v1", DQNConfig(net_arch=(64, 64)), seed=0)
        if algo == "dqn"
        else PPO("CartPole-v1", seed=0)
    )
    subject = agent_subject(agent, LoopConfig(target=0.9, distill_steps=300))
    subject.evaluate(3, 10_000, record=True)  # states to distil on
    subject.start_recovery()
    assert subject.distiller is not None
    states = subject.distiller.states(512)
    name = "q" if algo == "dqn" else "actor"
    teacher = subject.distiller.teachers[name]

    def agreement_and_loss() -> tuple[float, float]:
        with torch.no_grad():
            x = agent.network_input(states)
            student, target = agent.networks[name](x), teacher(x)
        kind = subject.distiller.kinds[name] if subject.distiller else ""
        agree = (student.argmax(-1) == target.argmax(-1)).float().mean()
        return float(agree), float(distillation_loss(kind, student, target))

    subject.prune_to({"all": 0.8})
    agree0, loss0 = agreement_and_loss()
    subject.distill(300)
    agree1, loss1 = agreement_and_loss()
    assert loss1 < 0.5 * loss0 and agree1 >= max(agree0, 0.9)
    assert subject.sparsity() == pytest.approx(0.8, abs=0.01)
    for t in subject.pruner.targets:
        assert bool((t.param.detach()[~t.mask] == 0).all())


def test_a_resumed_subject_distils_towards_the_saved_reference() -> None:
    config = LoopConfig(target=0.9)
    first = agent_subject(DQN("CartPole-v1", DQNConfig(net_arch=(16,)), seed=0), config)
    first.start_recovery()
    saved = first.recovery_state()
    assert saved is not None and set(saved) == {"q"}
    other = agent_subject(DQN("CartPole-v1", DQNConfig(net_arch=(16,)), seed=1), config)
    other.load_recovery_state(saved)
    assert other.distiller is not None
    for key, value in other.distiller.teachers["q"].state_dict().items():
        assert torch.equal(value, saved["q"][key])  # seed 1's own weights would differ
