"""Divergence guards: a NaN or Inf from the env or an update stops training where it appears."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch import nn

from prunerl.core.finite import NonFiniteError, all_finite, describe_non_finite
from prunerl.rl import DQN, PPO, SAC, DQNConfig, PPOConfig, SACConfig
from prunerl.rl.guard import transition_problem, update_problem

from .faulty import HUGE_REWARD, INF_REWARD, NAN_OBS, NAN_OBS_PENDULUM, register

register()


def test_transition_problem_names_the_entry() -> None:
    obs = np.zeros(4, dtype=np.float32)
    assert transition_problem(obs, 1.0) is None
    obs[2] = np.nan
    assert transition_problem(obs, 1.0) == "observation[2] is NaN"
    assert transition_problem(np.zeros(4), float("-inf")) == "reward is -Inf"
    batch = np.zeros((3, 4))
    batch[1, 3] = np.inf
    assert transition_problem(batch, np.ones(3)) == "observation[1, 3] is +Inf"
    rewards = np.array([0.0, np.nan, 0.0])
    assert transition_problem(np.zeros((3, 4)), rewards) == "reward[1] is NaN"


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_a_finite_sum_that_overflows_is_no_problem() -> None:
    big = np.full(4, 3e38, dtype=np.float32)  # the sum overflows, every entry is finite
    assert transition_problem(big, 0.0) is None


def test_update_problem_names_the_loss_or_the_weight() -> None:
    net = nn.Linear(3, 2)
    assert update_problem({"q": net}, {"loss": 1.0}, {}) is None
    assert update_problem({"q": net}, {"loss": float("nan")}, {}) == "loss is NaN"
    with torch.no_grad():
        net.weight[1, 2] = float("inf")
    net.weight.grad = torch.full_like(net.weight, float("nan"))
    found = update_problem({"q": net}, {"loss": 1.0}, {})
    assert found == "weight q.weight[1, 2] is +Inf (its gradient too)"
    alpha = torch.tensor(float("nan"))
    assert update_problem({}, {}, {"log_alpha": alpha}) == "weight log_alpha is NaN"


def test_all_finite_and_describe() -> None:
    assert all_finite([torch.ones(3), torch.zeros(2, 2)])
    assert not all_finite([torch.ones(3), torch.tensor([0.0, float("nan")])])
    assert describe_non_finite(np.array([1, 2, 3])) is None  # integers are always finite


def step_of(message: str) -> int:
    found = re.search(r"at env step (\d+)", message)
    assert found is not None, message
    return int(found.group(1))


@pytest.mark.parametrize("at_step", [7, 300])
def test_dqn_stops_at_the_nan_observation(at_step: int) -> None:
    agent = DQN(
        NAN_OBS, DQNConfig(learning_starts=100, train_freq=4), env_kwargs={"at_step": at_step}
    )
    with pytest.raises(NonFiniteError, match=r"observation\[1\] is NaN at env step") as info:
        agent.learn(2000)
    assert step_of(str(info.value)) == at_step == agent.num_timesteps
    assert "check the environment" in str(info.value)
    assert len(agent.buffer) < at_step  # the NaN observation never reached the buffer
    assert np.isfinite(agent.buffer.filled_arrays()["next_obs"]).all()
    assert all(all_finite(list(n.parameters())) for n in agent.networks.values())


def test_dqn_stops_at_an_infinite_reward() -> None:
    agent = DQN(INF_REWARD, DQNConfig(learning_starts=100), env_kwargs={"at_step": 50})
    with pytest.raises(NonFiniteError, match=r"reward is \+Inf at env step 50"):
        agent.learn(1000)


def test_dqn_stops_after_the_update_that_diverged() -> None:
    """Rewards of 3e38 are finite, but their TD errors overflow: the update is what fails."""
    config = DQNConfig(learning_starts=64, train_freq=4, batch_size=16)
    agent = DQN(HUGE_REWARD, config, env_kwargs={"at_step": 10})
    with pytest.raises(NonFiniteError, match="after the update at env step") as info:
        agent.learn(2000)
    assert step_of(str(info.value)) <= 64 + 4 * 3
    assert "lower the learning rate" in str(info.value)


def test_ppo_stops_at_the_nan_observation() -> None:
    config = PPOConfig(num_envs=2, n_steps=16, batch_size=32, n_epochs=1)
    agent = PPO(NAN_OBS, config, env_kwargs={"at_step": 40})
    with pytest.raises(NonFiniteError, match=r"observation\[\d, 1\] is NaN at env step") as info:
        agent.learn(1000)
    assert step_of(str(info.value)) == 80  # both envs reach their 40th step together
    assert all(all_finite(list(n.parameters())) for n in agent.networks.values())
    # the episode was dropped: training can go on with fresh episodes (they go wrong again)
    assert agent._obs is None and agent.buffer.pos == 0


def test_sac_stops_at_the_nan_observation() -> None:
    config = SACConfig(learning_starts=20, batch_size=16, net_arch=(16, 16))
    agent = SAC(NAN_OBS_PENDULUM, config, env_kwargs={"at_step": 30})
    with pytest.raises(NonFiniteError, match=r"observation\[1\] is NaN at env step 30"):
        agent.learn(200)
    assert all(all_finite(list(n.parameters())) for n in agent.networks.values())


def test_weights_are_checked_every_weight_check_every_env_steps() -> None:
    """Losses are checked after every round; every weight only every WEIGHT_CHECK_EVERY env
    steps (a NaN weight makes the next loss NaN, so this only bounds a silent one)."""
    from prunerl.rl.guard import WEIGHT_CHECK_EVERY

    agent = DQN("CartPole-v1", DQNConfig(net_arch=(8,)))
    with torch.no_grad():
        next(agent.networks["q"].parameters()).view(-1)[0] = float("nan")
    agent.num_timesteps = WEIGHT_CHECK_EVERY - 1
    agent.check_update({"loss": 1.0})  # not due yet
    agent.num_timesteps = WEIGHT_CHECK_EVERY
    with pytest.raises(NonFiniteError, match=r"weight q\..* is NaN after the update at env step"):
        agent.check_update({"loss": 1.0})
