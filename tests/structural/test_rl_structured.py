"""Structural pruning of agents: neuron masks in env steps, the cut, hybrid, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from prunerl.core import PruningConfig
from prunerl.rl.dqn import DQN, DQNConfig
from prunerl.rl.ppo import PPO, PPOConfig
from prunerl.rl.sac import SAC, SACConfig
from prunerl.rl.structured import StructuredConfig, StructuredPruner, layer_widths, prune_agent

torch.set_num_threads(1)  # the CI machine has 2 cores

SMALL_DQN = DQNConfig(
    net_arch=(32, 32),
    learning_starts=100,
    train_freq=4,
    gradient_steps=1,
    batch_size=16,
    target_update_interval=50,
    buffer_size=2000,
)
OBS = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)


def dqn(pruning: PruningConfig | None = None) -> DQN:
    return DQN("CartPole-v1", SMALL_DQN, pruning=pruning, seed=0)


def hidden_rows_zero(layer: torch.nn.Linear) -> int:
    """Number of a Linear's output neurons whose weights and bias are all exactly zero."""
    rows = layer.weight.detach().abs().sum(1) + layer.bias.detach().abs()
    return int((rows == 0).sum())


def test_schedule_masks_then_cut_online_and_target_with_optimizer_state() -> None:
    agent = dqn()
    sp = StructuredPruner(
        agent, sparsity=0.75, begin_step=200, end_step=600, update_every=200, cut_step=700
    )
    assert agent.structured is sp
    agent.learn(400, callback=sp)
    assert not sp.is_cut
    assert 0.0 < sp.sparsity() < 0.75  # part of the way along the cubic schedule
    assert hidden_rows_zero(agent.networks["q"][0]) == round(32 * sp.layer_sparsity()["q/0"])
    agent.learn(699, callback=sp)
    assert not sp.is_cut and sp.sparsity() == pytest.approx(0.75)
    q, opt = agent.networks["q"], agent.optimizers["q"]
    keep = q[0].weight.detach().abs().sum(1) + q[0].bias.detach().abs() > 0
    adam_before = opt.state[q[0].weight]["exp_avg"][keep].clone()
    step_before = opt.state[q[0].weight]["step"].clone()
    sp.step(700)
    assert sp.is_cut and sp.cut_step == 700
    small = agent.networks["q"]
    assert layer_widths(small) == [8, 8, 2]
    assert layer_widths(agent.networks["q_target"]) == [8, 8, 2]
    assert sp.architecture() == {"q": {"before": [32, 32, 2], "after": [8, 8, 2]}}
    assert not agent.networks["q_target"][0].weight.requires_grad
    params = opt.param_groups[0]["params"]
    assert all(a is b for a, b in zip(params, small.parameters(), strict=True))
    assert all(a is b for a, b in zip(agent._params, small.parameters(), strict=True))
    assert torch.equal(opt.state[small[0].weight]["exp_avg"], adam_before)  # sliced, not reset
    assert torch.equal(opt.state[small[0].weight]["step"], step_before)
    agent.learn(1200, callback=sp)  # the small network keeps training
    assert agent.num_timesteps == 1200 and layer_widths(agent.networks["q"]) == [8, 8, 2]


def test_cut_keeps_the_masked_networks_outputs() -> None:
    agent = dqn()
    sp = StructuredPruner(agent, sparsity=0.5, schedule="one_shot", begin_step=300, cut_step=400)
    agent.learn(399, callback=sp)
    assert not sp.is_cut and sp.sparsity() == pytest.approx(0.5)
    masked_q, masked_target = agent.q_values(OBS), agent.networks["q_target"](torch.tensor(OBS))
    sp.step(400)
    assert sp.is_cut
    assert torch.allclose(agent.q_values(OBS), masked_q, atol=1e-5)
    with torch.no_grad():
        target = agent.networks["q_target"](torch.tensor(OBS))
    assert torch.allclose(target, masked_target, atol=1e-5)


def test_masked_tanh_neurons_stay_dead_between_updates() -> None:
    """Tanh passes gradients at 0, so only the optimizer step hook keeps PPO's neurons masked."""
    config = PPOConfig(n_steps=32, num_envs=2, batch_size=32, n_epochs=2)
    agent = PPO("CartPole-v1", config, seed=0)
    sp = StructuredPruner(agent, sparsity=0.5, schedule="one_shot", begin_step=64, cut=False)
    agent.learn(256, callback=sp)
    assert agent.num_updates > 4 and not sp.is_cut
    for name in ("actor", "critic"):
        assert hidden_rows_zero(agent.networks[name][0]) == 32
        assert hidden_rows_zero(agent.networks[name][2]) == 32


def test_sac_prunes_each_critic_and_its_target() -> None:
    config = SACConfig(net_arch=(32, 32), learning_starts=50, batch_size=16, buffer_size=1000)
    agent = SAC("Pendulum-v1", config, seed=0)
    sp = StructuredPruner(agent, sparsity=0.5, schedule="one_shot", begin_step=100)
    agent.learn(150, callback=sp)
    assert sp.is_cut and sorted(sp.final) == ["actor", "critic.q1", "critic.q2"]
    for name in ("critic", "critic_target"):
        assert layer_widths(agent.networks[name]) == [16, 16, 1, 16, 16, 1]
    critic_opt = agent.optimizers["critic"]
    assert {id(p) for p in critic_opt.param_groups[0]["params"]} == {
        id(p) for p in agent.networks["critic"].parameters()
    }
    agent.learn(200, callback=sp)
    obs = np.zeros((3, 3), dtype=np.float32)
    assert agent.predict(obs).shape == (3, 1)


def test_hybrid_weight_pruner_is_rebuilt_with_its_masks_and_counters() -> None:
    agent = dqn(
        PruningConfig(method="gmp", sparsity=0.5, begin_step=100, end_step=300, update_every=100)
    )
    sp = StructuredPruner(agent, sparsity=0.5, schedule="one_shot", begin_step=400)
    agent.learn(400, callback=sp)
    pruner = agent.pruner
    assert sp.is_cut and pruner is not None
    assert pruner.last_step >= 300 and pruner.num_updates == 3
    for name, sparsity in pruner.layer_sparsity().items():
        assert 0.3 < sparsity < 0.9, name  # the cut kept the survivors' masks, not fresh ones
    agent.learn(600, callback=sp)
    for t in pruner.targets:
        assert bool((t.param.detach()[~t.mask] == 0).all())
        assert t.param.shape == t.mask.shape
    target_mask = agent.networks["q_target"][0].weight_mask
    assert torch.equal(target_mask, pruner.masks["q.0.weight"])


def test_checkpoint_after_the_cut_loads_into_a_fresh_agent() -> None:
    agent = dqn(PruningConfig(method="magnitude", sparsity=0.3, begin_step=200))
    sp = StructuredPruner(agent, sparsity=0.75, schedule="one_shot", begin_step=200)
    agent.learn(400, callback=sp)
    state = agent.state_dict()
    fresh = dqn(PruningConfig(method="magnitude", sparsity=0.3, begin_step=200))
    fresh.load_state_dict(state)
    assert fresh.structured is not None and fresh.structured.is_cut
    assert fresh.structured.cut_step == 200
    assert layer_widths(fresh.networks["q"]) == [8, 8, 2]
    assert torch.equal(fresh.q_values(OBS), agent.q_values(OBS))
    opt, fresh_opt = agent.optimizers["q"], fresh.optimizers["q"]
    for p, fp in zip(
        agent.networks["q"].parameters(), fresh.networks["q"].parameters(), strict=True
    ):
        assert torch.equal(opt.state[p]["exp_avg_sq"], fresh_opt.state[fp]["exp_avg_sq"])
    fresh.learn(500)


def test_checkpoint_before_the_cut_restores_masks_and_cuts_on_schedule() -> None:
    agent = dqn()
    StructuredPruner(agent, sparsity=0.5, begin_step=100, end_step=500, update_every=100)
    assert agent.structured is not None
    agent.learn(300, callback=agent.structured)
    state = agent.state_dict()
    fresh = dqn()
    fresh.load_state_dict(state)
    sp = fresh.structured
    assert sp is not None and not sp.is_cut
    assert sp.layer_sparsity() == agent.structured.layer_sparsity()
    fresh.learn(500, callback=sp)
    assert sp.is_cut and layer_widths(fresh.networks["q"]) == [16, 16, 2]


def test_prune_agent_one_shot_then_fine_tune() -> None:
    agent = dqn()
    agent.learn(300)
    sp = prune_agent(agent, {"q": 0.75}, importance="taylor")
    assert sp.is_cut and layer_widths(agent.networks["q"]) == [8, 8, 2]
    agent.learn(600)
    assert agent.num_timesteps == 600


@pytest.mark.parametrize("importance", ["taylor", "activation", "apoz", "l2"])
def test_importances_that_need_gradients_or_observations(importance: str) -> None:
    agent = dqn()
    sp = StructuredPruner(
        agent, sparsity=0.5, importance=importance, begin_step=200, end_step=400, update_every=100
    )
    agent.learn(450, callback=sp)
    assert sp.is_cut and sp.sparsity() == pytest.approx(0.5)


def test_bad_input_gets_one_clear_error() -> None:
    with pytest.raises(ValueError, match="no prunable network"):
        StructuredPruner(dqn(), sparsity=0.5, networks=["q_target"])
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        StructuredConfig(sparsity=1.0)
    with pytest.raises(ValueError, match="unknown neuron importance"):
        StructuredConfig(importance="magic")
    with pytest.raises(ValueError, match="unknown structured pruning option"):
        StructuredConfig.from_dict({"sparsty": 0.5})
    with pytest.raises(ValueError, match="cut_step"):
        StructuredConfig(begin_step=10, end_step=100, cut_step=50)
    lottery = dqn(PruningConfig(method="lottery", sparsity=0.5, end_step=100))
    with pytest.raises(ValueError, match="rewinds"):
        StructuredPruner(lottery, sparsity=0.5)
    agent = dqn()
    StructuredPruner(agent, sparsity=0.5)
    with pytest.raises(ValueError, match="already has"):
        StructuredPruner(agent, sparsity=0.5)


def test_resolve_fills_the_window_like_the_core_section() -> None:
    gradual = StructuredConfig.resolve({"sparsity": 0.75}, total_steps=10_000)
    assert (gradual.begin_step, gradual.end_step, gradual.update_every) == (2000, 7500, 550)
    one_shot = StructuredConfig.resolve({"schedule": "one_shot"}, total_steps=10_000)
    assert one_shot.begin_step == 7500 and one_shot.last_update_step() == 7500
